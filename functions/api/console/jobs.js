// The workspace's jobs: a page of `GET /jobs` (newest first, filterable by status) refreshed while the page is
// open, each with a live progress bar, and the controls a job's status allows: pause and resume (`POST
// /jobs/bulk`), cancel (`DELETE /jobs/{id}`, confirmed by a second click), retry (`POST /jobs/{id}/retry`).

import { ApiError, call, session } from "./api.js";
import { byId, el, replace, when } from "./dom.js";

const PAGE_SIZE = 20;
const CONFIRM_MS = 5000;
const ACTIVE = new Set(["pending", "running"]);

function progressOf(counters) {
  return counters.total ? Math.floor((counters.processed / counters.total) * 100) : 100;
}

function money(cost) {
  const credits = Number(cost.hunter_credits).toLocaleString(undefined, { maximumFractionDigits: 1 });
  const dollars = Number(cost.perplexity_usd).toLocaleString(undefined, { style: "currency", currency: "USD" });
  return `${credits} credits · ${dollars}`;
}

export class Jobs {
  constructor({ onOpenItems, notify, onError }) {
    this.onOpenItems = onOpenItems;
    this.notify = notify;
    this.onError = onError;
    this.status = "";
    this.cursors = [null];
    this.page = 0;
    this.next = null;
    this.jobs = [];
    this.confirming = null; // the job whose Cancel was clicked once
    this.busy = new Set(); // jobs with an action in flight
    byId("jobs-status").addEventListener("change", (event) => {
      this.status = event.target.value;
      this.first();
    });
    byId("jobs-prev").addEventListener("click", () => this.turn(-1));
    byId("jobs-next").addEventListener("click", () => this.turn(1));
  }

  first() {
    this.cursors = [null];
    this.page = 0;
    return this.refresh().catch(this.onError);
  }

  turn(step) {
    if (step > 0 && this.next) this.cursors[this.page + 1] = this.next;
    this.page = Math.max(0, this.page + step);
    this.refresh().catch(this.onError);
  }

  async refresh() {
    const answer = await call("GET", "/jobs", {
      query: { limit: PAGE_SIZE, status: this.status, cursor: this.cursors[this.page] },
    });
    if (!session.key) return this.jobs; // signed out meanwhile: show nothing
    this.jobs = answer.jobs;
    this.next = answer.cursor;
    this.render();
    return this.jobs;
  }

  clear() {
    this.jobs = [];
    this.next = null;
    this.cursors = [null];
    this.page = 0;
    this.render();
  }

  render() {
    replace(byId("jobs-body"), this.jobs.map((job) => this.row(job)));
    byId("jobs-empty").hidden = this.jobs.length > 0;
    byId("jobs-prev").disabled = this.page === 0;
    byId("jobs-next").disabled = !this.next;
    byId("jobs-page").textContent = `Page ${this.page + 1}`;
  }

  row(job) {
    const { counters } = job;
    const done = progressOf(counters);
    const fill = el("div", { class: "fill" });
    fill.style.width = `${done}%`; // CSSOM, which the page's style-src allows (no inline style attribute)
    const status = el("span", { class: `badge status-${job.status}` }, job.status);
    const reason = job.paused_reason ? el("span", { class: "muted reason" }, ` (${job.paused_reason})`) : null;
    const tags = job.options.tags.length ? el("div", { class: "muted" }, job.options.tags.join(", ")) : null;
    return el(
      "tr",
      { dataset: { jobId: job.job_id, status: job.status } },
      el("td", {}, el("code", {}, job.job_id), tags),
      el("td", {}, when(job.created_at)),
      el("td", { class: "status" }, status, reason),
      el("td", { class: "num" }, job.options.priority),
      el(
        "td",
        { class: "progress-cell" },
        el(
          "div",
          {
            class: "progress",
            role: "progressbar",
            "aria-valuemin": 0,
            "aria-valuemax": 100,
            "aria-valuenow": done,
            "aria-label": `Progress of job ${job.job_id}`,
          },
          fill,
        ),
        el("span", { class: "muted" }, `${counters.processed} / ${counters.total} · ${done} %`),
      ),
      el("td", { class: "num" }, counters.found),
      el("td", { class: "num" }, counters.failed),
      el("td", {}, money(job.cost)),
      el("td", { class: "actions" }, this.controls(job)),
    );
  }

  controls(job) {
    const busy = this.busy.has(job.job_id);
    const button = (label, action, extra = {}) =>
      el("button", { type: "button", disabled: busy, dataset: { action }, onclick: () => this.act(job, action), ...extra }, label);
    const buttons = [button("Items", "items")];
    if (ACTIVE.has(job.status)) buttons.push(button("Pause", "pause"));
    if (job.status === "paused") buttons.push(button("Resume", "resume"));
    if (ACTIVE.has(job.status) || job.status === "paused") {
      const confirming = this.confirming === job.job_id;
      buttons.push(button(confirming ? "Confirm cancel" : "Cancel", "cancel", { class: confirming ? "danger" : null }));
    }
    if (job.counters.failed > 0 && !ACTIVE.has(job.status)) buttons.push(button("Retry", "retry"));
    return buttons;
  }

  async act(job, action) {
    const id = job.job_id;
    if (action === "items") {
      this.onOpenItems(job);
      return;
    }
    if (action === "cancel" && this.confirming !== id) {
      this.confirming = id;
      this.render();
      setTimeout(() => {
        if (this.confirming === id) {
          this.confirming = null;
          this.render();
        }
      }, CONFIRM_MS);
      return;
    }
    this.confirming = null;
    this.busy.add(id);
    this.render();
    try {
      this.notify(await this.perform(id, action));
    } catch (error) {
      if (error instanceof ApiError && error.refusedKey) this.onError(error);
      else this.notify(`Job ${id}: ${action} failed: ${error.message}`, "error");
    } finally {
      this.busy.delete(id);
      await this.refresh().catch(this.onError);
    }
  }

  async perform(id, action) {
    const path = `/jobs/${encodeURIComponent(id)}`;
    if (action === "cancel") {
      await call("DELETE", path);
      return `Job ${id} cancelled: its remaining items will not run; finished ones keep their results`;
    }
    if (action === "retry") {
      const answer = await call("POST", `${path}/retry`);
      return `Job ${id}: ${answer.requeued} failed or dead items back in the queue`;
    }
    const answer = await call("POST", "/jobs/bulk", { body: { job_ids: [id], action } });
    const result = answer.results.find((one) => one.job_id === id) ?? { outcome: "not_found" };
    if (result.outcome === "done") return `Job ${id} ${action === "pause" ? "paused" : "resumed"} (now ${result.status})`;
    if (result.outcome === "not_found") throw new Error("no such job in this workspace");
    throw new Error(result.message || `its status (${result.status}) does not allow it`);
  }
}
