// The review queue (`GET /contacts?review=pending`, docs/privacy.md "Contact approval"): the addresses the
// workspace's jobs found while its `review_required` setting is on, held out of the items and exports until
// someone decides. Approve (`POST /contacts/{id}/approve`) shows the address in its job's items and writes it
// to Supabase; Reject (`/reject`) drops it for good. A page at a time, cursors kept for Previous.

import { ApiError, call, session } from "./api.js";
import { byId, el, replace } from "./dom.js";

const PAGE_SIZE = 20;

function who(email) {
  const parts = [email.person, email.position].filter(Boolean);
  return parts.length ? parts.join(", ") : email.contact === "generic" ? "(role address)" : "-";
}

export class Review {
  constructor({ notify, onError }) {
    this.notify = notify;
    this.onError = onError;
    this.cursors = [null];
    this.page = 0;
    this.next = null;
    byId("review-prev").addEventListener("click", () => this.turn(-1));
    byId("review-next").addEventListener("click", () => this.turn(1));
  }

  turn(step) {
    if (step > 0 && this.next) this.cursors[this.page + 1] = this.next;
    this.page = Math.max(0, this.page + step);
    this.refresh().catch(this.onError);
  }

  clear() {
    this.cursors = [null];
    this.page = 0;
    this.next = null;
    this.render([]);
  }

  async refresh() {
    const answer = await call("GET", "/contacts", {
      query: { review: "pending", limit: PAGE_SIZE, cursor: this.cursors[this.page] },
    });
    if (!session.key) return; // signed out meanwhile
    if (!answer.contacts.length && this.page > 0) {
      this.clear(); // the page emptied as its contacts were decided: back to the first one
      await this.refresh();
      return;
    }
    this.next = answer.cursor;
    this.render(answer.contacts);
  }

  row(contact) {
    const email = contact.email;
    const tier = email.deliverability ?? "none";
    const flag = contact.region_flag ? el("span", { class: "badge flag" }, contact.region_flag) : null;
    const decide = (decision) => (event) => this.decide(contact, decision, event.target);
    return el(
      "tr",
      { dataset: { contactId: contact.contact_id } },
      el("td", {}, el("code", {}, contact.job_id), el("span", { class: "muted" }, ` #${Number(contact.item_id)}`)),
      el("td", {}, contact.lead.domain ?? "-", flag),
      el("td", {}, el("span", { class: "email" }, email.email), el("div", { class: "muted" }, who(email))),
      el("td", {}, el("span", { class: `badge tier-${tier}` }, email.deliverability ?? "no tier")),
      el("td", {}, email.lawful_basis ?? "-"),
      el(
        "td",
        {},
        el("button", { type: "button", onclick: decide("approve") }, "Approve"),
        el("button", { type: "button", class: "danger", onclick: decide("reject") }, "Reject"),
      ),
    );
  }

  render(contacts) {
    replace(byId("review-body"), contacts.map((contact) => this.row(contact)));
    byId("review-empty").hidden = contacts.length > 0;
    byId("review-prev").disabled = this.page === 0;
    byId("review-next").disabled = !this.next;
    byId("review-page").textContent = `Page ${this.page + 1}`;
  }

  async decide(contact, decision, button) {
    button.disabled = true;
    try {
      await call("POST", `/contacts/${encodeURIComponent(contact.contact_id)}/${decision}`);
      this.notify(`${contact.email.email} ${decision === "approve" ? "approved" : "rejected"}`);
      await this.refresh();
    } catch (error) {
      button.disabled = false;
      if (error instanceof ApiError && error.refusedKey) this.onError(error);
      else this.notify(`The decision was not recorded: ${error.message}`, "error");
    }
  }
}
