/** What every page template gets: the portal's configuration, the user, the CSRF token and the flash message. */
import type { PortalUiConfig } from "../config.ts";
import type { Flash, SessionUser } from "../session.ts";

/** The frame of a page. */
export interface PageContext {
  config: PortalUiConfig;
  /** The logged-in user, if any. */
  user?: SessionUser;
  /** The token every form posts back (CSRF protection). */
  csrfToken: string;
  flash?: Flash;
  /** The path of the page, for marking the current navigation entry. */
  path: string;
  /** The version of the static assets, for cache busting. */
  assetVersion: string;
}
