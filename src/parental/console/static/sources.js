// The source page's import running in the background: its part of the page is fetched again
// every second until the import ends, then shows the report. Without this file the page has
// a "Refresh" link instead.
"use strict";
(() => {
  const EVERY_MS = 1000;
  const AFTER_ERROR_MS = 5000;

  function swap(current, fresh, id) {
    const old = current.querySelector(`#${id}`);
    const next = fresh.querySelector(`#${id}`);
    if (old && next) old.replaceWith(document.importNode(next, true));
  }

  async function poll() {
    const current = document.getElementById("import-job");
    const url = current && current.dataset.poll;
    if (!url) return;
    let fresh = null;
    try {
      const response = await fetch(url, {
        headers: { Accept: "text/html" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const html = await response.text();
      fresh = new DOMParser().parseFromString(html, "text/html").getElementById("import-job");
    } catch (error) {
      window.setTimeout(poll, AFTER_ERROR_MS); // the server restarting, say: try again later
      return;
    }
    if (!fresh) return; // signed out meanwhile: the page's own links take over
    // The status line is a live region: it changes only when its words do, so a screen
    // reader announces each phase once, not every second.
    const status = current.querySelector("#job-status");
    const said = fresh.querySelector("#job-status");
    if (status && said && status.textContent !== said.textContent) {
      status.textContent = said.textContent;
    }
    swap(current, fresh, "h-job");
    swap(current, fresh, "job-body");
    current.dataset.phase = fresh.dataset.phase || "";
    if (fresh.dataset.poll) {
      hideRefreshLinks(current);
      window.setTimeout(poll, EVERY_MS);
    } else {
      delete current.dataset.poll;
    }
  }

  function hideRefreshLinks(panel) {
    for (const link of panel.querySelectorAll(".job-refresh")) link.hidden = true;
  }

  const panel = document.getElementById("import-job");
  if (panel && panel.dataset.poll) {
    hideRefreshLinks(panel);
    window.setTimeout(poll, EVERY_MS);
  }
})();
