/**
 * Who is told about failures: the endpoints a namespace's failure topic is subscribed
 * to. An endpoint is an email address or an `https://` URL; nothing else is accepted,
 * so that a typo fails at synthesis instead of a notification that never arrives.
 */

/** How SNS delivers to an endpoint: the subscription's protocol. */
export type NotificationProtocol = 'email' | 'https';

/** Longest email address SMTP carries (RFC 5321 path limit). */
export const MAX_EMAIL_LENGTH = 254;
/** Longest endpoint URL the factory accepts. */
export const MAX_NOTIFICATION_URL_LENGTH = 2048;

const EMAIL = /^[^\s@,;<>()"]+@[^\s@,;<>()".]+(?:\.[^\s@,;<>()".]+)+$/;

/** The protocol of an endpoint by its form: `https` for an `https://` URL, else `email`. Check it with {@link notificationEndpointProblem} first. */
export function notificationProtocol(endpoint: string): NotificationProtocol {
  return /^https:\/\//i.test(endpoint) ? 'https' : 'email';
}

/**
 * The problem with an endpoint of the failure topic, in words that say what to pass,
 * or undefined when it is an email address or an `https://` URL.
 */
export function notificationEndpointProblem(endpoint: string): string | undefined {
  if (typeof endpoint !== 'string' || endpoint.trim().length === 0) return 'an endpoint is empty: give an email address or an https:// URL';
  if (endpoint !== endpoint.trim()) return `'${endpoint}' has spaces around it: give the email address or URL alone`;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint)) {
    if (!/^https:\/\//i.test(endpoint)) {
      return `'${endpoint}' is not an https:// URL: SNS would send the failures in clear text or not at all; give an https:// endpoint`;
    }
    if (endpoint.length > MAX_NOTIFICATION_URL_LENGTH)
      return `the URL '${endpoint.slice(0, 60)}…' is ${endpoint.length} characters long; the limit is ${MAX_NOTIFICATION_URL_LENGTH}`;
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      return `'${endpoint}' is not a URL: give an https:// endpoint such as https://hooks.example.com/factory`;
    }
    if (!url.hostname || /\s/.test(endpoint)) return `'${endpoint}' is not a URL: give an https:// endpoint such as https://hooks.example.com/factory`;
    return undefined;
  }
  if (endpoint.length > MAX_EMAIL_LENGTH)
    return `the email address '${endpoint.slice(0, 60)}…' is ${endpoint.length} characters long; the limit is ${MAX_EMAIL_LENGTH}`;
  if (!EMAIL.test(endpoint)) return `'${endpoint}' is neither an email address (name@example.com) nor an https:// URL`;
  return undefined;
}

/**
 * The problem with a list of endpoints: the first bad one, or one named twice (SNS would
 * keep one subscription of the two); undefined when every one is an email address or an
 * `https://` URL, once.
 */
export function notificationEndpointsProblem(endpoints: readonly string[]): string | undefined {
  for (const endpoint of endpoints) {
    const problem = notificationEndpointProblem(endpoint);
    if (problem) return problem;
  }
  const seen = new Set<string>();
  for (const endpoint of endpoints) {
    const key = notificationProtocol(endpoint) === 'email' ? endpoint.toLowerCase() : endpoint;
    if (seen.has(key)) return `'${endpoint}' is named more than once: name each endpoint once`;
    seen.add(key);
  }
  return undefined;
}
