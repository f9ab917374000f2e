"""The curators' console: server-rendered pages under ``/console`` over the same services and
admin-API actions as ``/admin/v1`` (so every change is audited the same way), with cookie
sessions, a second factor, CSRF tokens and a strict Content-Security-Policy."""
