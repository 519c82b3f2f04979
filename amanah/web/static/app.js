// Amanah's only script: resumable uploads in parts. Written for this project; no framework.
"use strict";

const PART = 8 * 1024 * 1024;

function uploadKey(collection, file) {
  return "amanah-upload:" + [collection, file.name, file.size, file.lastModified].join("|");
}

async function api(method, url, csrf, body, headers) {
  const res = await fetch(url, {
    method: method,
    credentials: "same-origin",
    headers: Object.assign({ "X-CSRF-Token": csrf }, headers || {}),
    body: body,
  });
  let data = null;
  try { data = await res.json(); } catch (e) { data = { error: res.statusText }; }
  if (!res.ok) { throw new Error(data.error || res.statusText); }
  return data;
}

async function openUpload(collection, file, csrf) {
  const key = uploadKey(collection, file);
  const known = localStorage.getItem(key);
  if (known) {
    try {
      const state = await api("GET", "/api/v1/uploads/" + known, csrf);
      if (!state.complete) { return state; }
    } catch (e) { /* gone: start again */ }
  }
  const state = await api(
    "POST", "/api/v1/collections/" + encodeURIComponent(collection) + "/uploads", csrf,
    JSON.stringify({
      filename: file.webkitRelativePath || file.name, size: file.size,
      modified: file.lastModified }),
    { "Content-Type": "application/json" });
  localStorage.setItem(key, state.upload_id);
  return state;
}

async function send(collection, file, csrf, row) {
  const bar = row.querySelector("progress");
  const pct = row.querySelector(".pct");
  const receipt = row.querySelector(".receipt");
  let state = await openUpload(collection, file, csrf);
  const show = (n) => {
    const p = file.size ? Math.floor((100 * n) / file.size) : 100;
    bar.value = p;
    pct.textContent = p + "%";
  };
  show(state.received);
  while (!state.complete) {
    const end = Math.min(state.received + PART, file.size);
    state = await api(
      "PUT", "/api/v1/uploads/" + state.upload_id + "?offset=" + state.received, csrf,
      file.slice(state.received, end), { "Content-Type": "application/octet-stream" });
    show(state.received);
  }
  localStorage.removeItem(uploadKey(collection, file));
  const link = document.createElement("a");
  link.href = "/items/" + state.item_id;
  link.textContent = document.getElementById("msg-done").textContent + " " + state.item_id;
  receipt.textContent = state.sha256 + " ";
  receipt.appendChild(link);
  row.classList.add("done");
}

function start(form, files) {
  const csrf = form.dataset.csrf;
  const collection = document.getElementById("collection").value;
  const table = document.getElementById("queue");
  const template = document.getElementById("row");
  table.hidden = false;
  let chain = Promise.resolve();
  for (const file of files) {
    const row = template.content.firstElementChild.cloneNode(true);
    row.querySelector(".name").textContent = file.name;
    table.tBodies[0].appendChild(row);
    chain = chain.then(() => send(collection, file, csrf, row).catch((err) => {
      row.classList.add("failed");
      row.querySelector(".receipt").textContent =
        document.getElementById("msg-failed").textContent + ": " + err.message;
    }));
  }
  return chain;
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("upload");
  if (!form) { return; }
  const input = document.getElementById("files");
  const drop = document.getElementById("drop");
  input.addEventListener("change", () => { start(form, Array.from(input.files)); input.value = ""; });
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    start(form, Array.from(e.dataTransfer.files));
  });
});

// Long steps (a package build, a redaction) say they are working and cannot be sent twice:
// a form with data-busy shows that text and disables its buttons once submitted.
document.addEventListener("submit", (e) => {
  const form = e.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.busy || e.defaultPrevented) { return; }
  const note = document.createElement("p");
  note.className = "notice";
  note.setAttribute("role", "status");
  note.textContent = form.dataset.busy;
  form.appendChild(note);
  // Disabled after the submission has taken the clicked button's value.
  setTimeout(() => form.querySelectorAll("button").forEach((b) => { b.disabled = true; }), 0);
});

// "Select all" for a table of checkboxes: a checkbox with data-select-all="NAME" ticks every
// checkbox named NAME in its form.
document.addEventListener("change", (e) => {
  const box = e.target;
  if (!(box instanceof HTMLInputElement) || !box.dataset.selectAll || !box.form) { return; }
  // The form's elements include checkboxes outside it that name it (form="…"): a hit list.
  Array.from(box.form.elements)
    .filter((el) => el instanceof HTMLInputElement && el.type === "checkbox"
      && el.name === box.dataset.selectAll)
    .forEach((other) => { other.checked = box.checked; });
});
