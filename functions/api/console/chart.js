// The last hour as a chart, drawn here in SVG rather than with a library: twelve bars need no dependency to
// pin, audit or update. Each 5-minute bucket of `GET /metrics` is a bar of the items processed in it (found,
// otherwise answered, failed, stacked); the success rate is a line on its own 0-100 % scale.

import { percent, replace, svg } from "./dom.js";

const WIDTH = 640;
const HEIGHT = 200;
const LEFT = 40;
const RIGHT = 40;
const TOP = 12;
const BOTTOM = 28;

function clock(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** A round top for the count axis (1, 2, 5 x 10^n), so the scale reads easily. */
function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((step) => step * power).find((top) => top >= value);
}

/** Draws `series` ([{start, processed, found, failed, success_rate}], oldest first) into `node`. */
export function drawChart(node, series) {
  const title = node.querySelector("title");
  replace(node, title);
  const plotWidth = WIDTH - LEFT - RIGHT;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const top = niceMax(Math.max(0, ...series.map((bucket) => bucket.processed)));
  const slot = plotWidth / Math.max(series.length, 1);
  const y = (count) => TOP + plotHeight - (count / top) * plotHeight;
  const rateY = (share) => TOP + plotHeight - share * plotHeight;

  for (const tick of [0, top / 2, top]) {
    node.append(
      svg("line", { class: "grid", x1: LEFT, x2: WIDTH - RIGHT, y1: y(tick), y2: y(tick) }),
      svg("text", { class: "axis", x: LEFT - 6, y: y(tick) + 4, "text-anchor": "end" }, String(tick)),
    );
  }
  node.append(
    svg("text", { class: "axis", x: WIDTH - RIGHT + 6, y: rateY(1) + 4 }, "100 %"),
    svg("text", { class: "axis", x: WIDTH - RIGHT + 6, y: rateY(0) + 4 }, "0 %"),
  );

  const points = [];
  series.forEach((bucket, index) => {
    const x = LEFT + index * slot + slot * 0.15;
    const width = slot * 0.7;
    const answered = bucket.processed - bucket.found - bucket.failed;
    let base = 0;
    const bar = svg("g", { class: "bucket", dataset: { processed: bucket.processed } });
    bar.append(svg("title", {}, `${clock(bucket.start)}: ${bucket.processed} processed, ${bucket.found} found, `
      + `${bucket.failed} failed; success rate ${percent(bucket.success_rate)}`));
    for (const [count, kind] of [[bucket.found, "found"], [answered, "other"], [bucket.failed, "failed"]]) {
      if (count > 0) {
        bar.append(svg("rect", { class: kind, x, width, y: y(base + count), height: y(base) - y(base + count) }));
        base += count;
      }
    }
    node.append(bar);
    if (bucket.success_rate !== null && bucket.success_rate !== undefined) {
      points.push(`${x + width / 2},${rateY(bucket.success_rate)}`);
    }
    if (index % 3 === 0 || index === series.length - 1) {
      node.append(svg("text", { class: "axis", x: x + width / 2, y: HEIGHT - 8, "text-anchor": "middle" },
        clock(bucket.start)));
    }
  });
  if (points.length) {
    node.append(svg("polyline", { class: "rate", points: points.join(" ") }));
    for (const point of points) {
      const [cx, cy] = point.split(",");
      node.append(svg("circle", { class: "rate-point", cx, cy, r: 3 }));
    }
  }
}
