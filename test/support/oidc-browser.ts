/**
 * A minimal scripted browser for OAuth/OIDC flows in integration tests: a cookie jar that honours Path,
 * Max-Age and Expires, manual redirect following (so a test can stop at a client's redirect URI, which
 * nothing serves), and form reading from HTML pages. For tests only; nothing in a component imports it.
 */

/** One stored cookie. */
interface StoredCookie {
  name: string;
  value: string;
  host: string;
  path: string;
  expiresAt: number;
}

/** A response with its body read and the URL it came from. */
export interface Page {
  url: string;
  status: number;
  headers: Headers;
  body: string;
  /** The Location header resolved against the URL, for redirects. */
  location?: string;
}

/** A form of a page: where it posts and its fields with their values. */
export interface PageForm {
  action: string;
  method: string;
  fields: Record<string, string>;
}

/** A browser with its own cookies. */
export class Browser {
  private cookies: StoredCookie[] = [];

  /** Names of the cookies the browser would send to a URL. */
  cookieNames(url: string): string[] {
    return this.matching(new URL(url)).map((c) => c.name);
  }

  /** Forgets every cookie. */
  clearCookies(): void {
    this.cookies = [];
  }

  /** One request, without following redirects. `form` is sent urlencoded. */
  async request(
    url: string,
    init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
  ): Promise<Page> {
    const target = new URL(url);
    const headers: Record<string, string> = { ...init.headers };
    const cookie = this.matching(target)
      .map((c) => `${c.name}=${c.value}`)
      .join("; ");
    if (cookie) headers.cookie = cookie;
    let body: string | undefined;
    if (init.form) {
      body = new URLSearchParams(init.form).toString();
      headers["content-type"] = "application/x-www-form-urlencoded";
    }
    const response = await fetch(target, {
      method: init.method ?? (body ? "POST" : "GET"),
      headers,
      body,
      redirect: "manual",
    });
    for (const line of response.headers.getSetCookie()) this.store(target, line);
    const location = response.headers.get("location");
    return {
      url: target.href,
      status: response.status,
      headers: response.headers,
      body: await response.text(),
      location: location ? new URL(location, target).href : undefined,
    };
  }

  /**
   * Requests a URL and follows redirects (as a browser: 303 and 302 turn into GET) until a page that is not
   * a redirect, or until `stopAt` says a redirect target is the end (e.g. the client's redirect URI).
   */
  async follow(
    url: string,
    init: { method?: string; form?: Record<string, string> } = {},
    stopAt: (url: string) => boolean = () => false,
  ): Promise<Page> {
    let page = await this.request(url, init);
    for (let hops = 0; page.location && page.status >= 300 && page.status < 400; hops += 1) {
      if (hops > 20) throw new Error(`Too many redirects from ${url}`);
      if (stopAt(page.location)) return page;
      page = await this.request(page.location);
    }
    return page;
  }

  private matching(url: URL): StoredCookie[] {
    const now = Date.now();
    this.cookies = this.cookies.filter((c) => c.expiresAt > now);
    return this.cookies.filter(
      (c) =>
        c.host === url.host &&
        (url.pathname === c.path || url.pathname.startsWith(c.path.endsWith("/") ? c.path : `${c.path}/`)),
    );
  }

  private store(url: URL, line: string): void {
    const [pair = "", ...attributes] = line.split(";").map((s) => s.trim());
    const eq = pair.indexOf("=");
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    let path = url.pathname.replace(/\/[^/]*$/, "") || "/";
    let expiresAt = Number.POSITIVE_INFINITY;
    for (const attribute of attributes) {
      const [key = "", val = ""] = attribute.split("=");
      const k = key.toLowerCase();
      if (k === "path") path = val || "/";
      else if (k === "max-age") expiresAt = Date.now() + Number(val) * 1000;
      else if (k === "expires" && expiresAt === Number.POSITIVE_INFINITY) expiresAt = Date.parse(val);
    }
    this.cookies = this.cookies.filter((c) => !(c.name === name && c.path === path && c.host === url.host));
    if (value !== "" && expiresAt > Date.now())
      this.cookies.push({ name, value, host: url.host, path, expiresAt });
  }
}

/** The forms of an HTML page, with their inputs' values (absolute actions). */
export function pageForms(page: Page): PageForm[] {
  const forms: PageForm[] = [];
  for (const match of page.body.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attrs = match[1] ?? "";
    const action = /action="([^"]*)"/i.exec(attrs)?.[1] ?? page.url;
    const method = /method="([^"]*)"/i.exec(attrs)?.[1] ?? "get";
    const fields: Record<string, string> = {};
    for (const input of (match[2] ?? "").matchAll(/<input\b([^>]*)>/gi)) {
      const name = /name="([^"]*)"/i.exec(input[1] ?? "")?.[1];
      if (name) fields[name] = decodeEntities(/value="([^"]*)"/i.exec(input[1] ?? "")?.[1] ?? "");
    }
    forms.push({
      action: new URL(decodeEntities(action), page.url).href,
      method: method.toLowerCase(),
      fields,
    });
  }
  return forms;
}

/** The first form of a page whose action contains `part`; throws with the page when there is none. */
export function formWithAction(page: Page, part: string): PageForm {
  const form = pageForms(page).find((f) => f.action.includes(part));
  if (!form)
    throw new Error(
      `No form posting to "${part}" on ${page.url} (${page.status}):\n${page.body.slice(0, 2000)}`,
    );
  return form;
}

/** The href of the first link containing `part`. */
export function linkWith(page: Page, part: string): string {
  for (const match of page.body.matchAll(/href="([^"]*)"/gi)) {
    const href = decodeEntities(match[1] ?? "");
    if (href.includes(part)) return new URL(href, page.url).href;
  }
  throw new Error(`No link containing "${part}" on ${page.url}:\n${page.body.slice(0, 2000)}`);
}

function decodeEntities(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}
