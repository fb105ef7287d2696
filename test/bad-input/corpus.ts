/**
 * A fixed corpus of classic cross-site scripting and SQL injection payloads, each at most 100 characters so
 * it fits a display name. They must travel through wicked as data: stored and read back verbatim, never
 * executed or interpreted. Includes the LIKE wildcards and escapes a search must treat literally.
 */

/** Cross-site scripting payloads (OWASP filter evasion classics). */
export const XSS = [
  "<script>alert(1)</script>",
  '"><script>alert(document.cookie)</script>',
  "<img src=x onerror=alert(1)>",
  "<svg/onload=alert(1)>",
  "javascript:alert(1)",
  "<iframe src=\"javascript:alert('x')\"></iframe>",
  '<a href="javascript&colon;alert(1)">click</a>',
  "'-alert(1)-'",
  "</title><script>alert(1)</script>",
  "<body onload=alert(1)>",
  "{{constructor.constructor('alert(1)')()}}",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the payload is a template-injection probe, kept literal
  "${alert(1)}",
  '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
  "[click](javascript:alert(1))",
  '![x](x" onerror="alert(1))',
  "&lt;script&gt;alert(1)&lt;/script&gt;",
  "<scr<script>ipt>alert(1)</scr</script>ipt>",
  "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e",
] as const;

/** SQL injection payloads, and the characters LIKE and string literals treat specially. */
export const SQLI = [
  "' OR '1'='1",
  "' OR 1=1 --",
  "'; DROP TABLE apis; --",
  '"; DROP TABLE users; --',
  "1; SELECT pg_sleep(5); --",
  "' UNION SELECT id, email, password_hash FROM users --",
  "admin'--",
  "') OR ('a'='a",
  "%",
  "_",
  "\\",
  "%' OR name LIKE '%",
  "$$; DROP TABLE plans; $$",
  "'; COPY users TO '/tmp/x'; --",
  "\\x27 OR 1=1",
] as const;

/** Every payload. */
export const CORPUS: readonly string[] = [...XSS, ...SQLI];
