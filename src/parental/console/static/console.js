// Progressive enhancement only: every page works without this file.
"use strict";
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || form.method !== "post") return;
  const question = form.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  // One click, one change: a second click while the page loads would post the form again.
  for (const button of form.querySelectorAll("button[type=submit]")) {
    button.disabled = true;
    if (form.dataset.busy) button.textContent = form.dataset.busy;
  }
});
