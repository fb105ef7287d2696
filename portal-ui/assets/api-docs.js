// Mounts Swagger UI (swagger-ui-bundle.js, loaded before this file) on the interactive docs page. The page
// carries no inline script and no credential: this script fetches the rewritten OpenAPI document and the
// visitor's own credentials from the same-origin JSON named in data-config, then fills in the key (apiKey
// scheme) or the client id (oauth2 scheme) so "Try it out" works at once.

(() => {
  const root = document.getElementById("swagger-ui");
  const status = document.getElementById("api-docs-status");
  if (!root) return;
  const say = (text, failed) => {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("docs-status-error", Boolean(failed));
    status.hidden = text === "";
  };
  if (typeof window.SwaggerUIBundle !== "function") {
    say("The interactive docs could not load. Use the API reference instead.", true);
    return;
  }
  // Swagger UI's server list has no accessible name of its own.
  const nameServerSelect = () => {
    for (const select of root.querySelectorAll("select#servers")) {
      if (!select.hasAttribute("aria-label")) select.setAttribute("aria-label", "Server");
    }
  };
  new MutationObserver(nameServerSelect).observe(root, { childList: true, subtree: true });
  const source = root.getAttribute("data-config") || "";
  fetch(source, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((response) =>
      response
        .json()
        .catch(() => ({}))
        .then((body) => {
          if (!response.ok || !body.spec) {
            throw new Error(body.detail || `The portal answered ${response.status}.`);
          }
          return body;
        }),
    )
    .then((config) => {
      const auth = config.auth;
      const ui = window.SwaggerUIBundle({
        domNode: root,
        spec: config.spec,
        deepLinking: false,
        validatorUrl: null,
        docExpansion: "list",
        defaultModelsExpandDepth: 0,
        displayRequestDuration: true,
        tryItOutEnabled: false,
        persistAuthorization: false,
        withCredentials: false,
        oauth2RedirectUrl: config.oauth2RedirectUrl,
        presets: [window.SwaggerUIBundle.presets.apis],
        layout: "BaseLayout",
        onComplete: () => {
          if (auth && auth.type === "apiKey") ui.preauthorizeApiKey(auth.scheme, auth.key);
          say("", false);
        },
      });
      if (auth && auth.type === "oauth2") {
        ui.initOAuth({
          clientId: auth.clientId,
          scopes: auth.scopes,
          usePkceWithAuthorizationCodeGrant: true,
        });
      }
    })
    .catch((error) => {
      say(`The interactive docs could not load: ${error.message} Use the API reference instead.`, true);
    });
})();
