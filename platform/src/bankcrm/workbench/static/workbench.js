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
    const error = new Error(answer && answer.detail ? answer.detail : response.statusText);
    error.errors = answer && answer.errors ? answer.errors : [];
    throw error;
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

// A form that sends its fields as JSON: <form data-json data-url="/api/..." data-method="POST"
// data-then="/app/.../{id}">. Empty fields are left out; fields named a.b make nested
// objects; inputs with data-type="number|list|bool" are converted. Each problem of the
// answer is shown beside the input it names (the pointer /body/<name>/…), the rest above
// the button.
function fieldOf(form, problemField) {
  if (!problemField.startsWith("/body/")) return null;
  const name = problemField
    .slice("/body/".length)
    .split("/")
    .filter((token) => !/^\d+$/.test(token))
    .map((token) => token.replace(/~1/g, "/").replace(/~0/g, "~"))
    .join(".");
  return form.querySelector(`[name="${CSS.escape(name)}"]`);
}

function jsonForm(form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const old of form.querySelectorAll(".field-error")) old.remove();
    const summary = form.querySelector(".error");
    const body = {};
    for (const input of form.querySelectorAll("[name]")) {
      if (input.type === "checkbox" && !input.checked && input.dataset.type !== "bool") continue;
      let value = input.type === "checkbox" && input.dataset.type === "bool" ? input.checked : input.value;
      if (value === "" || value === null) continue;
      if (input.dataset.type === "number") value = Number(value);
      if (input.dataset.type === "list") value = value.split(/[,，、\s]+/).filter(Boolean);
      let target = body;
      const parts = input.name.split(".");
      for (const part of parts.slice(0, -1)) target = target[part] = target[part] || {};
      target[parts[parts.length - 1]] = value;
    }
    try {
      const answer = await send(form.dataset.method || "POST", form.dataset.url, body);
      const then = form.dataset.then;
      if (then) window.location.assign(then.replace("{id}", answer && answer.id !== undefined ? answer.id : ""));
      else window.location.reload();
    } catch (problem) {
      const unplaced = [];
      for (const error of problem.errors || []) {
        const input = fieldOf(form, error.field);
        if (input) {
          const note = document.createElement("span");
          note.className = "field-error error";
          note.textContent = error.message;
          input.insertAdjacentElement("afterend", note);
        } else {
          unplaced.push(`${error.field}: ${error.message}`);
        }
      }
      const english = document.documentElement.lang === "en";
      const placed = (problem.errors || []).length - unplaced.length;
      const lead = placed && !unplaced.length
        ? (english ? "Please correct the marked fields." : "请修改标出的内容。")
        : problem.message;
      summary.textContent = [lead, ...unplaced].join("；");
      summary.hidden = false;
    }
  });
}

// A button that posts to the JSON API: <button data-post="/api/..." data-confirm="…"
// data-body='{"reason": ""}' data-ask="reason">; data-ask prompts for that body field.
function postButton(button) {
  button.addEventListener("click", async () => {
    if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
    const body = button.dataset.body ? JSON.parse(button.dataset.body) : {};
    if (button.dataset.ask) {
      const answer = window.prompt(button.dataset.askLabel || button.dataset.ask);
      if (answer === null) return;
      body[button.dataset.ask] = answer;
    }
    const status = button.parentElement.querySelector(".error");
    try {
      await send("POST", button.dataset.post, Object.keys(body).length ? body : undefined);
      if (button.dataset.then) window.location.assign(button.dataset.then);
      else window.location.reload();
    } catch (problem) {
      if (status) { status.textContent = problem.message; status.hidden = false; }
      else window.alert(problem.message);
    }
  });
}

// A file upload: <form data-upload data-url="/api/..." data-then="/app/.../{id}"> with an
// <input type=file name=file> and other fields, sent as multipart/form-data.
function uploadForm(form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = form.querySelector(".error");
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const response = await fetch(form.dataset.url, {
        method: "POST", credentials: "same-origin", body: new FormData(form),
      });
      const answer = await response.json().catch(() => null);
      if (!response.ok) throw new Error(answer && answer.detail ? answer.detail : response.statusText);
      window.location.assign((form.dataset.then || "").replace("{id}", answer.id));
    } catch (problem) {
      status.textContent = problem.message;
      status.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  for (const element of document.querySelectorAll("form[data-json]")) jsonForm(element);
  for (const element of document.querySelectorAll("form[data-upload]")) uploadForm(element);
  for (const element of document.querySelectorAll("button[data-post]")) postButton(element);
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
