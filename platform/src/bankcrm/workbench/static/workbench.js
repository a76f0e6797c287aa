// Behaviour of the staff pages. The content-security policy allows no inline script, so
// every page loads this file; each part acts only where its markup is present. Writes go
// through the JSON API with the session cookie (same origin, so the write is accepted).
"use strict";

async function send(method, url, body) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let answer = null;
  try { answer = await response.json(); } catch (_) { answer = null; }
  if (!response.ok) {
    const detail = answer && answer.detail ? answer.detail : response.statusText;
    throw new Error(detail);
  }
  return answer;
}

function login(form) {
  const error = form.querySelector(".error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    if (!data.otp) delete data.otp;
    try {
      await send("POST", "/api/v1/auth/login", data);
      window.location.assign(form.dataset.next || "/app/");
    } catch (problem) {
      error.textContent = problem.message;
      error.hidden = false;
    }
  });
}

function reveal(form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const fields = data.getAll("fields");
    const status = form.querySelector(".error");
    try {
      const revealed = await send("POST", form.dataset.url, { reason: data.get("reason"), fields });
      for (const [name, value] of Object.entries(revealed)) {
        for (const cell of document.querySelectorAll(`[data-masked="${name}"]`)) {
          if (value !== null && typeof value !== "object") {
            cell.textContent = String(value);
            cell.classList.remove("masked");
          }
        }
      }
      status.hidden = true;
      form.reset();
    } catch (problem) {
      status.textContent = problem.message;
      status.hidden = false;
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("login");
  if (form) login(form);
  for (const element of document.querySelectorAll("form[data-reveal]")) reveal(element);
  for (const button of document.querySelectorAll("[data-action=logout]")) {
    button.addEventListener("click", async () => {
      try { await send("POST", "/api/v1/auth/logout"); } finally { window.location.assign("/app/login"); }
    });
  }
  for (const button of document.querySelectorAll("[data-action=read-all]")) {
    button.addEventListener("click", async () => {
      await send("POST", "/api/v1/notifications/read-all");
      window.location.reload();
    });
  }
});
