// Building the page from API data without ever parsing that data as markup: values go in as text nodes and
// attribute values only (the page's CSP also requires Trusted Types, so any HTML-parsing sink would throw).

/** An element: `attrs` from the page's own code (names never come from data); children as text or nodes. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  setAttributes(node, attrs);
  fill(node, children);
  return node;
}

/** An SVG element (the chart), attributes as for `el`. */
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  setAttributes(node, attrs);
  fill(node, children);
  return node;
}

function setAttributes(node, attrs) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
}

/** Appends text and nodes; null, undefined and false are skipped. */
export function fill(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** Replaces every child of `node`. */
export function replace(node, ...children) {
  node.replaceChildren();
  return fill(node, children);
}

export function byId(id) {
  return document.getElementById(id);
}

/** A time as the reader's locale writes it; "-" for none. */
export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "-";
}

/** A share (0..1) as a whole percent; "-" when there is none. */
export function percent(share) {
  return share === null || share === undefined ? "-" : `${Math.round(share * 100)} %`;
}
