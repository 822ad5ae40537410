// A tiny JSON client for tests that call the REST API over real HTTP.

export interface JsonResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

export interface CallOptions {
  token?: string;
  /** An object is sent as JSON; a string is sent as is (for malformed bodies). */
  body?: unknown;
  contentType?: string;
  query?: Record<string, string>;
}

/** Calls `method path` on `baseUrl` and reads the answer as JSON (or text, when it is not JSON). */
export async function callApi(
  baseUrl: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<JsonResponse> {
  const url = new URL(path, baseUrl);
  for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] = options.contentType ?? 'application/json';
  }
  const res = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** The `detail` of an error answer. */
export function detailOf(res: JsonResponse): string {
  const detail = (res.body as { detail?: unknown } | null)?.detail;
  return typeof detail === 'string' ? detail : `<no detail in ${JSON.stringify(res.body)}>`;
}
