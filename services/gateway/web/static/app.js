// The web app's behaviour: htmx settings, toasts, live SLA countdowns, local times and the
// board's drag and drop. Everything else is server-rendered HTML.
"use strict";

const csrf = () => {
  const h = document.body.getAttribute("hx-headers");
  return h ? JSON.parse(h)["X-CSRF-Token"] : "";
};

function toast(message, level = "error") {
  const box = document.getElementById("toasts");
  const div = document.createElement("div");
  div.className = `flash ${level}`;
  div.setAttribute("role", level === "error" ? "alert" : "status");
  div.textContent = message;
  box.appendChild(div);
  setTimeout(() => div.remove(), level === "error" ? 8000 : 4000);
}

// ---- SLA countdowns and times in the reader's own time zone ----
function countdown(due, now) {
  let s = Math.round((due - now) / 1000);
  const late = s <= 0;
  s = Math.abs(s);
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  let text;
  if (d) text = d < 10 && h ? `${d}d ${h}h` : `${d}d`;
  else if (h) text = m ? `${h}h ${m}m` : `${h}h`;
  else text = `${Math.max(m, 1)}m`;
  return { text: late ? `overdue by ${text}` : `due in ${text}`, late, soon: !late && s <= 48 * 3600 };
}

function refreshClocks(root = document) {
  const now = Date.now();
  root.querySelectorAll(".sla[data-due]").forEach((el) => {
    const c = countdown(Date.parse(el.dataset.due), now);
    el.textContent = c.text;
    el.classList.toggle("overdue", c.late);
    el.classList.toggle("due-soon", c.soon);
    el.classList.toggle("on-track", !c.late && !c.soon);
  });
}

const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

function localTimes(root = document) {
  root.querySelectorAll("time[datetime]").forEach((el) => {
    if (el.dataset.local) return;
    const d = new Date(el.getAttribute("datetime"));
    if (Number.isNaN(d.getTime())) return;
    el.title = el.textContent;
    el.textContent = (el.textContent.includes(":") ? dateTimeFmt : dateFmt).format(d);
    el.dataset.local = "1";
  });
}

// ---- the board ----
async function move(card, column) {
  const resp = await fetch("/board/move", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
    body: JSON.stringify({ task_id: card.dataset.taskId, version: Number(card.dataset.version), column }),
  });
  let body = {};
  try { body = await resp.json(); } catch (e) { body = { message: `The server answered ${resp.status}.` }; }
  if (!resp.ok) throw new Error(body.message || `Refused (${resp.status}).`);
  card.dataset.version = body.version;
  for (const [col, n] of Object.entries(body.counts || {})) {
    const badge = document.querySelector(`.count[data-count="${col}"]`);
    if (badge) badge.textContent = n;
  }
  return body;
}

function snapBack(card, from, index) {
  const ref = from.children[index] || null;
  from.insertBefore(card, ref);
  card.classList.remove("refused");
  void card.offsetWidth; // restart the animation
  card.classList.add("refused");
}

function moveSelects(card) {
  const select = card.querySelector("select[data-move]");
  const here = card.closest(".cards").dataset.column;
  [...select.options].forEach((o) => { if (o.value) o.hidden = o.value === here; });
}

function initBoard(root = document) {
  if (typeof Sortable === "undefined") return;
  root.querySelectorAll(".cards").forEach((list) => {
    if (list.dataset.sortable) return;
    list.dataset.sortable = "1";
    Sortable.create(list, {
      group: "board", animation: 150, forceFallback: true, fallbackTolerance: 4, filter: "select, a, summary, .suggest-body", preventOnFilter: false,
      onEnd: async (evt) => {
        if (evt.from === evt.to) return;
        const card = evt.item;
        const column = evt.to.dataset.column;
        try {
          await move(card, column);
          moveSelects(card);
          toast(`Moved to ${column}.`, "ok");
        } catch (err) {
          snapBack(card, evt.from, evt.oldIndex);
          toast(err.message);
        }
      },
    });
  });
  // Keyboard and touch users: the card's "Move to" menu does the same as a drag.
  root.querySelectorAll("select[data-move]").forEach((select) => {
    if (select.dataset.bound) return;
    select.dataset.bound = "1";
    select.addEventListener("change", async () => {
      const card = select.closest(".card");
      const column = select.value;
      select.value = "";
      if (!column) return;
      const from = card.parentElement, index = [...from.children].indexOf(card);
      const target = document.querySelector(`.cards[data-column="${column}"]`);
      target.prepend(card);
      try {
        await move(card, column);
        moveSelects(card);
        toast(`Moved to ${column}.`, "ok");
      } catch (err) {
        snapBack(card, from, index);
        toast(err.message);
      }
      select.focus();
    });
  });
}

function init(root) {
  refreshClocks(root);
  localTimes(root);
  initBoard(root);
}

document.addEventListener("DOMContentLoaded", () => {
  if (window.htmx) {
    // Swap form answers that explain a refusal (422, 409, 412) in place; show other errors as toasts.
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "(409|412|422)", swap: true, error: false },
      { code: "[45]..", swap: false, error: true },
    ];
    document.body.addEventListener("htmx:responseError", (e) => {
      const xhr = e.detail.xhr;
      const tmp = document.createElement("div");
      tmp.innerHTML = xhr.responseText;
      toast(tmp.textContent.trim().slice(0, 300) || `The server answered ${xhr.status}.`);
    });
    document.body.addEventListener("htmx:sendError", () => toast("The server cannot be reached; check your connection and try again."));
    document.body.addEventListener("htmx:afterSettle", (e) => init(e.detail.elt));
  }
  init(document);
  setInterval(() => refreshClocks(), 30000);
  // "/" jumps to the queue's search box, as in most work tools.
  document.addEventListener("keydown", (e) => {
    const q = document.getElementById("q");
    if (e.key === "/" && q && !/INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName)) {
      e.preventDefault();
      q.focus();
    }
  });
});
