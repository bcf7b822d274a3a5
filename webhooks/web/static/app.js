// bmabot demo page: plain JavaScript, no build step. Each applicant tab is a new demo user;
// the right pane sits in the reviewers' group. Chats arrive as server-sent events. The tabs
// open are kept in the browser (localStorage), so a reload finds the same applicants.
"use strict";

const REVIEWER = "reviewer";
const KEPT = "bmabot-demo-applicants";
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
  root.querySelectorAll("[data-label]").forEach((node) => {
    node.setAttribute("aria-label", words[node.dataset.label] || "");
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
    if (mine && chat === "review") {
      node.append(el("span", "who", said.user === REVIEWER ? words.reviewer_name : said.user));
    }
    if (said.title) node.append(el("span", "title", said.title));
    if (said.text) node.append(document.createTextNode(said.text));
    const image = said.image_url || said.photo;
    if (image) {
      // A link, not a click on the picture: the keyboard and screen readers can open it too.
      const link = el("a", "picture");
      link.href = image;
      link.target = "_blank";
      link.rel = "noopener";
      const img = el("img");
      img.src = said.preview_url || image;
      img.alt = mine ? words.photo_sent : words.photo_document;
      link.append(img);
      node.append(link);
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

function kept() {
  try {
    const saved = JSON.parse(localStorage.getItem(KEPT) || "{}");
    const users = Array.isArray(saved.users) ? saved.users : [];
    return { users: users.filter((u) => /^[A-Za-z0-9_-]{1,40}$/.test(u)), active: saved.active };
  } catch (error) {
    return { users: [] };  // storage off or damaged: start afresh
  }
}

function keep() {
  const users = [...document.querySelectorAll(".phone")].map((pane) => pane.dataset.user);
  const active = document.querySelector(".phone:not([hidden])");
  try {
    localStorage.setItem(KEPT, JSON.stringify({ users, active: active && active.dataset.user }));
  } catch (error) {
    // a private window may refuse storage: the tabs then last as long as the page
  }
}

// One applicant: a tab and its phone. A new one greets the bot; a kept one shows its chat,
// and greets again only if the demo was restarted and its chat is gone.
async function addApplicant(user, isNew) {
  const number = document.querySelectorAll(".phone").length + 1;
  const pane = document.getElementById("phone").content.firstElementChild.cloneNode(true);
  const tab = el("button", "", `${words.applicant || ""} ${number}`);
  Object.assign(tab, { type: "button", id: `tab-${user}` });
  tab.setAttribute("role", "tab");
  tab.setAttribute("aria-controls", `phone-${user}`);
  tab.dataset.user = user;
  tab.addEventListener("click", () => show(user));
  tab.addEventListener("keydown", moveBetweenTabs);
  Object.assign(pane, { id: `phone-${user}` });
  pane.dataset.user = user;
  pane.setAttribute("aria-labelledby", tab.id);
  translate(pane);
  pane.querySelector(".messages").setAttribute("aria-labelledby", tab.id);
  document.getElementById("phones").append(pane);
  document.getElementById("tabs").append(tab);
  const say = openChat(pane, user, user);
  if (isNew) {
    show(user);
    await say({ kind: "follow" });
    return;
  }
  const earlier = await (await fetch(`/web/chats/${user}/said`)).json();
  if (!earlier.length) await say({ kind: "follow" });
}

function newApplicant() {
  return addApplicant("demo-" + Math.random().toString(36).slice(2, 8), true);
}

function show(user) {
  document.querySelectorAll(".phone").forEach((p) => { p.hidden = p.dataset.user !== user; });
  document.querySelectorAll("#tabs [role=tab]").forEach((t) => {
    const chosen = t.dataset.user === user;
    t.setAttribute("aria-selected", String(chosen));
    t.tabIndex = chosen ? 0 : -1;
  });
  keep();
}

// The arrow keys move along the tabs, as in any tab list.
function moveBetweenTabs(event) {
  const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
  if (!step) return;
  const tabs = [...document.querySelectorAll("#tabs [role=tab]")];
  const next = tabs[(tabs.indexOf(event.target) + step + tabs.length) % tabs.length];
  show(next.dataset.user);
  next.focus();
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
  if (!ledger.accounts.length) {
    const row = el("tr", "empty");
    const cell = el("td", "", words.nothing_yet);
    cell.colSpan = 5;
    row.append(cell);
    rows.append(row);
  }
}

async function start() {
  words = await (await fetch("/web/words")).json();
  document.title = words.title;
  translate(document);
  openChat(document.getElementById("review"), REVIEWER, "review");
  new EventSource("/web/ledger/events").onmessage = (event) => drawLedger(JSON.parse(event.data));
  document.getElementById("new-applicant").addEventListener("click", newApplicant);
  const { users, active } = kept();
  if (!users.length) return newApplicant();
  for (const user of users) await addApplicant(user, false);
  show(users.includes(active) ? active : users[0]);
}

start();
