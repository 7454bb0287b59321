/*
 * The page's REST calls (SPEC §6, §12): JSON in and out with the session
 * cookie and Django's CSRF token (DRF checks it on session-authenticated
 * writes). Answers resolve to {ok, status, body}; a network failure to
 * {ok: false, status: 0}.
 */

export function csrfToken() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (input && input.value) return input.value;
  const holder = document.querySelector("[data-csrf]");
  return holder ? holder.dataset.csrf : "";
}

export function api(method, url, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return fetch(url, {
    method,
    headers,
    credentials: "same-origin",
    cache: "no-store",
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then(
    (r) => r.text().then((text) => {
      let parsed = null;
      try { parsed = text ? JSON.parse(text) : null; } catch (e) { parsed = null; }
      return { ok: r.ok, status: r.status, body: parsed };
    }),
    () => ({ ok: false, status: 0, body: null }),
  );
}

/** One sentence for a refused request: DRF's `detail`, or the first field error. */
export function errorText(res) {
  if (res.status === 0) return "The server could not be reached; try again.";
  const b = res.body;
  if (b && typeof b.detail === "string") return b.detail;
  if (b && typeof b === "object") {
    for (const field of Object.keys(b)) {
      const v = b[field];
      const first = Array.isArray(v) ? v[0] : v;
      if (typeof first === "string") return field === "non_field_errors" ? first : field + ": " + first;
    }
  }
  return "The server refused that (HTTP " + res.status + ").";
}

export function boardUrl(slug, rest = "") {
  return "/api/boards/" + encodeURIComponent(slug) + "/" + rest;
}
