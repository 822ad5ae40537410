// A small multipart/form-data reader for the fake's upload endpoint. Works on Buffers so binary file bytes
// survive untouched (decoding the body as a string first would corrupt them).

export interface MultipartPart {
  readonly name: string;
  readonly filename: string | undefined;
  readonly contentType: string | undefined;
  readonly data: Buffer;
}

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

/** Returns the boundary of a `multipart/form-data` content type, or undefined for any other type. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (contentType === undefined || !/^multipart\/form-data/i.test(contentType)) return undefined;
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

/** Splits a multipart body into its parts. Throws on a body that does not follow RFC 7578's framing. */
export function parseMultipart(body: Buffer, boundary: string): MultipartPart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let cursor = body.indexOf(delimiter);
  if (cursor === -1) throw new Error('multipart body does not contain its boundary');
  for (;;) {
    cursor += delimiter.length;
    // "--" right after a delimiter marks the end of the body.
    if (body[cursor] === 0x2d && body[cursor + 1] === 0x2d) return parts;
    if (!body.subarray(cursor, cursor + 2).equals(CRLF))
      throw new Error('malformed multipart delimiter line');
    const headersStart = cursor + 2;
    const headersEnd = body.indexOf(HEADER_END, headersStart);
    if (headersEnd === -1) throw new Error('multipart part has no end of headers');
    const next = body.indexOf(Buffer.concat([CRLF, delimiter]), headersEnd);
    if (next === -1) throw new Error('multipart part is not terminated by the boundary');
    parts.push(
      readPart(body.subarray(headersStart, headersEnd).toString('utf8'), body.subarray(headersEnd + 4, next)),
    );
    cursor = next + CRLF.length;
  }
}

function readPart(rawHeaders: string, data: Buffer): MultipartPart {
  const headers = new Map<string, string>();
  for (const line of rawHeaders.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const disposition = headers.get('content-disposition') ?? '';
  const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
  if (name === undefined) throw new Error(`multipart part without a name: ${disposition}`);
  return {
    name,
    filename: /\bfilename="([^"]*)"/i.exec(disposition)?.[1],
    contentType: headers.get('content-type'),
    // Copy, so the part does not keep the whole request body alive through a subarray view.
    data: Buffer.from(data),
  };
}
