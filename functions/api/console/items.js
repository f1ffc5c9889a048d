// One job's items (`GET /jobs/{id}/items`): a page at a time (cursors kept for Previous), filtered by status,
// each with its lead, status, reason and addresses with their deliverability tier.

import { call, session } from "./api.js";
import { byId, el, replace } from "./dom.js";

const PAGE_SIZE = 10;
const WAITING = new Set(["queued", "running", "deferred"]);

function person(item) {
  const lead = item.lead;
  const name = [lead.first_name, lead.last_name].filter(Boolean).join(" ");
  if (name) return name;
  const named = item.emails.find((email) => email.person);
  return named ? named.person : "-";
}

function addresses(item) {
  if (!item.emails.length) return el("span", { class: "muted" }, "-");
  return el(
    "ul",
    { class: "addresses" },
    item.emails.map((email) =>
      el(
        "li",
        {},
        el("span", { class: "email" }, email.email),
        " ",
        el("span", { class: `badge tier-${email.deliverability ?? "none"}` }, email.deliverability ?? "no tier"),
        el("span", { class: "muted" }, ` ${email.confidence_score}`),
      ),
    ),
  );
}

export class Items {
  constructor({ onError }) {
    this.onError = onError;
    this.jobId = null;
    this.status = "";
    this.cursors = [null];
    this.page = 0;
    this.next = null;
    this.settled = false; // every item of the page is final: no need to poll it
    byId("items-status").addEventListener("change", (event) => {
      this.status = event.target.value;
      this.first();
    });
    byId("items-prev").addEventListener("click", () => this.turn(-1));
    byId("items-next").addEventListener("click", () => this.turn(1));
  }

  open(job) {
    this.jobId = job.job_id;
    this.status = "";
    byId("items-status").value = "";
    byId("items-title").textContent = `Items of job ${job.job_id}`;
    byId("items").hidden = false;
    this.first().then(() => byId("items").scrollIntoView({ block: "start" }));
  }

  close() {
    this.jobId = null;
    byId("items").hidden = true;
    replace(byId("items-body"));
  }

  first() {
    this.cursors = [null];
    this.page = 0;
    this.settled = false;
    return this.refresh().catch(this.onError);
  }

  turn(step) {
    if (step > 0 && this.next) this.cursors[this.page + 1] = this.next;
    this.page = Math.max(0, this.page + step);
    this.settled = false;
    this.refresh().catch(this.onError);
  }

  /** The open page again, while any of its items can still change (`force`: regardless). */
  async poll(force = false) {
    if (this.jobId && (force || !this.settled)) await this.refresh();
  }

  async refresh() {
    if (!this.jobId) return;
    const jobId = this.jobId;
    const answer = await call("GET", `/jobs/${encodeURIComponent(jobId)}/items`, {
      query: { limit: PAGE_SIZE, status: this.status, cursor: this.cursors[this.page] },
    });
    if (jobId !== this.jobId || !session.key) return; // another job opened, or signed out, meanwhile
    this.next = answer.cursor;
    this.settled = answer.items.length > 0 && answer.items.every((item) => !WAITING.has(item.status));
    this.render(answer.items);
  }

  render(items) {
    replace(
      byId("items-body"),
      items.map((item) =>
        el(
          "tr",
          { dataset: { itemId: item.item_id, status: item.status } },
          el("td", { class: "num" }, Number(item.item_id)),
          el("td", {}, item.lead.domain ?? item.lead.company_name ?? item.lead.email ?? "-"),
          el("td", {}, person(item)),
          el("td", {}, el("span", { class: `badge item-${item.status}` }, item.status)),
          el("td", { class: "reason" }, item.reason ?? ""),
          el("td", {}, addresses(item)),
        ),
      ),
    );
    byId("items-empty").hidden = items.length > 0;
    byId("items-prev").disabled = this.page === 0;
    byId("items-next").disabled = !this.next;
    byId("items-page").textContent = `Page ${this.page + 1}`;
  }
}
