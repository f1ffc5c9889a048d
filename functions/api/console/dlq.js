// The dead-letter queue as the workspace sees it: the dead items (attempts used up) of its latest jobs, and
// the redrive (`POST /dlq/redrive`), which puts the workspace's dead letters back in the queue. The queue's
// own depth (`GET /metrics` `dlq_depth`) is the whole service's, so it is not shown here.

import { ApiError, call, session } from "./api.js";
import { byId, el, replace } from "./dom.js";

const JOBS_SCANNED = 50; // the latest jobs whose dead items are listed
const JOBS_READ = 10; // at most this many item reads per refresh (the workspace's request rate)

export class DeadLetters {
  constructor({ notify, onError, afterRedrive }) {
    this.notify = notify;
    this.onError = onError;
    this.afterRedrive = afterRedrive;
    byId("redrive").addEventListener("click", () => this.redrive());
  }

  async refresh() {
    const { jobs } = await call("GET", "/jobs", { query: { limit: JOBS_SCANNED } });
    const failing = jobs.filter((job) => job.counters.failed > 0).slice(0, JOBS_READ);
    const pages = await Promise.all(
      failing.map((job) =>
        call("GET", `/jobs/${encodeURIComponent(job.job_id)}/items`, { query: { status: "dead", limit: 20 } })
          .then((page) => page.items.map((item) => ({ jobId: job.job_id, item }))),
      ),
    );
    if (session.key) this.render(pages.flat()); // unless signed out meanwhile
  }

  clear() {
    this.render([]);
  }

  render(dead) {
    replace(
      byId("dlq-body"),
      dead.map(({ jobId, item }) =>
        el(
          "tr",
          { dataset: { jobId, itemId: item.item_id } },
          el("td", {}, el("code", {}, jobId)),
          el("td", { class: "num" }, Number(item.item_id)),
          el("td", {}, item.lead.domain ?? item.lead.company_name ?? item.lead.email ?? "-"),
          el("td", { class: "num" }, item.attempts),
          el("td", { class: "reason" }, item.reason ?? ""),
        ),
      ),
    );
    byId("dlq-empty").hidden = dead.length > 0;
  }

  async redrive() {
    const button = byId("redrive");
    button.disabled = true;
    try {
      const answer = await call("POST", "/dlq/redrive");
      this.notify(`${answer.redriven} dead letters back in the queue`);
      await this.afterRedrive();
      await this.refresh();
    } catch (error) {
      if (error instanceof ApiError && error.refusedKey) this.onError(error);
      else this.notify(`Redrive failed: ${error.message}`, "error");
    } finally {
      button.disabled = false;
    }
  }
}
