// bmabot demo page: plain JavaScript, no build step. Each applicant tab is a new demo user;
// the right pane sits in the reviewers' group. Chats arrive as server-sent events.
"use strict";

const REVIEWER = "reviewer";
let words = {};

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

async function post(url, body, type) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": type || "application/json" },
    body: type ? body : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(await response.text());
}

function translate(root) {
  root.querySelectorAll("[data-word]").forEach((node) => {
    node.textContent = words[node.dataset.word] || node.textContent;
  });
  root.querySelectorAll("[data-placeholder]").forEach((node) => {
    node.placeholder = words[node.dataset.placeholder] || "";
  });
}

// A chat: where messages are drawn, who writes, and how a press is sent.
function openChat(pane, user, chat) {
  const messages = pane.querySelector(".messages");
  const chips = pane.querySelector(".chips");
  const say = (body) => post(`/web/chats/${chat}/said`, { user, ...body });
  const press = (button, said) =>
    say({ kind: "button", data: button[1], label: button[0], origin: said.id });

  function chip(button, said) {
    const node = el("button", "", button[0]);
    node.type = "button";
    node.addEventListener("click", () => press(button, said));
    return node;
  }

  // A call button dials the number (on a phone) and sends nothing to the bot.
  function callLink(button) {
    const link = el("a", "call", `📞 ${button[0]}`);
    link.href = button[1];
    return link;
  }

  function draw(said) {
    const mine = said.sender === "person";
    const node = el("div", `said ${mine ? "person" : "bot"}${said.title ? " card" : ""}`);
    node.dataset.id = said.id;
    if (mine && chat === "review") node.append(el("span", "who", said.user));
    if (said.title) node.append(el("span", "title", said.title));
    if (said.text) node.append(document.createTextNode(said.text));
    const image = said.image_url || said.photo;
    if (image) {
      const img = el("img");
      img.src = said.preview_url || image;
      img.alt = said.text || "photo";
      img.addEventListener("click", () => window.open(image, "_blank"));
      node.append(img);
    }
    const buttons = said.buttons || [];
    // A card keeps its buttons; a message's buttons are quick replies under the chat.
    const holder = said.title || !chips ? el("div", "buttons") : chips;
    if (holder === chips && !mine) chips.replaceChildren();
    buttons.forEach((button) => {
      holder.append(button[1].startsWith("tel:") ? callLink(button) : chip(button, said));
    });
    if (holder !== chips && buttons.length) node.append(holder);
    const earlier = said.replaces && messages.querySelector(`[data-id="${said.replaces}"]`);
    if (earlier) earlier.replaceWith(node);
    else messages.append(node);
    messages.scrollTop = messages.scrollHeight;
  }

  new EventSource(`/web/chats/${chat}/events`).onmessage = (event) =>
    draw(JSON.parse(event.data));

  pane.querySelector(".composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = event.target.elements.text;
    if (!input.value.trim()) return;
    say({ kind: "text", text: input.value });
    input.value = "";
  });
  const upload = (blob) =>
    post(`/web/chats/${chat}/photos?user=${encodeURIComponent(user)}`, blob, blob.type || "image/jpeg");
  const file = pane.querySelector("input[type=file]");
  if (file) file.addEventListener("change", () => file.files[0] && upload(file.files[0]));
  const sample = pane.querySelector(".sample");
  if (sample) {
    sample.addEventListener("click", async () =>
      upload(await (await fetch("/static/sample-id-card.png")).blob()));
  }
  return say;
}

function newApplicant() {
  const user = "demo-" + Math.random().toString(36).slice(2, 8);
  const pane = document.getElementById("phone").content.firstElementChild.cloneNode(true);
  pane.dataset.user = user;
  translate(pane);
  document.getElementById("phones").append(pane);
  const tab = el("button", "", `${words.applicant || ""} ${document.querySelectorAll(".phone").length}`);
  tab.type = "button";
  tab.dataset.user = user;
  tab.addEventListener("click", () => show(user));
  document.getElementById("tabs").insertBefore(tab, document.getElementById("new-applicant"));
  show(user);
  openChat(pane, user, user)({ kind: "follow" });
}

function show(user) {
  document.querySelectorAll(".phone").forEach((p) => { p.hidden = p.dataset.user !== user; });
  document.querySelectorAll(".tabs button[data-user]").forEach((t) =>
    t.classList.toggle("active", t.dataset.user === user));
}

function drawLedger(ledger) {
  const sms = document.getElementById("sms-list");
  sms.replaceChildren(...ledger.sms.map((m) => {
    const item = el("li", "", m.message);
    item.prepend(el("span", "meta", `${m.at} · ${m.sender} → ${m.to}`));
    return item;
  }));
  if (!ledger.sms.length) sms.append(el("li", "empty", words.nothing_yet));
  const rows = document.getElementById("accounts");
  rows.replaceChildren(...ledger.accounts.map((a) => {
    const row = el("tr");
    [a.uid, a.name, a.mail, a.kind, a.reference].forEach((v) => row.append(el("td", "", v)));
    return row;
  }));
  if (!ledger.accounts.length) rows.append(el("tr", "empty", words.nothing_yet));
}

async function start() {
  words = await (await fetch("/web/words")).json();
  document.title = words.title;
  translate(document);
  openChat(document.getElementById("review"), REVIEWER, "review");
  new EventSource("/web/ledger/events").onmessage = (event) => drawLedger(JSON.parse(event.data));
  document.getElementById("new-applicant").addEventListener("click", newApplicant);
  newApplicant();
}

start();
