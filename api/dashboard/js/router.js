// Routes are URL fragments ("#/findings?severity=HIGH") so the server serves one page and a
// view's state can be shared as a link. Each route names a view; a view has show(match,
// params) and hide(). Later views (subscriptions, schedules, mutes) are one more entry.

/** "#/findings?x=1" -> { path: "/findings", params: URLSearchParams("x=1") } */
export function parseHash(hash) {
  const raw = (hash || "").replace(/^#/, "") || "/";
  const at = raw.indexOf("?");
  const path = at === -1 ? raw : raw.slice(0, at);
  const params = new URLSearchParams(at === -1 ? "" : raw.slice(at + 1));
  return { path: path || "/", params };
}

/** The fragment for a path and its non-empty parameters. */
export function hashFor(path, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v !== null && v !== undefined));
  const text = query.toString();
  return `#${path}${text ? `?${text}` : ""}`;
}

/** Replace the URL's fragment without a new history entry and without re-routing. */
export function replaceHash(hash) {
  if (location.hash !== hash) history.replaceState(null, "", hash);
}

export class Router {
  constructor() {
    this.routes = [];
    this.current = null;
  }

  /** @param {RegExp} pattern matched against the path; @param {() => object} view lazily built */
  add(name, pattern, view, nav = null) {
    this.routes.push({ name, pattern, view, nav });
    return this;
  }

  /** The route for a fragment, its regex match and its parameters (null if none matches). */
  resolve(hash) {
    const { path, params } = parseHash(hash);
    for (const route of this.routes) {
      const match = route.pattern.exec(path);
      if (match) return { route, match, params };
    }
    return null;
  }

  hideAll(except = null) {
    for (const route of this.routes) {
      if (route === except) continue;
      const view = route.built;
      if (view) view.hide();
    }
  }

  /** Forget the built views (on sign-out: the next user may have another role). */
  reset() {
    this.hideAll();
    for (const route of this.routes) route.built = null;
    this.current = null;
  }

  /** Show the view the fragment names, hiding the others; returns the route's name. */
  go(hash) {
    const found = this.resolve(hash) || this.resolve("#/");
    const { route, match, params } = found;
    this.hideAll(route);
    route.built = route.built || route.view();
    this.current = route;
    route.built.show(match, params);
    for (const link of document.querySelectorAll("[data-nav]")) {
      if (link.dataset.nav === route.nav) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    return route.name;
  }
}
