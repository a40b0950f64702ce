import sharp from 'sharp';

export const pngBytes = (size = 64) =>
  sharp({ create: { width: size, height: size, channels: 3, background: '#3a7' } })
    .png()
    .toBuffer();

/** Posts a multipart upload the way a browser form would. */
export async function upload(baseUrl: string, token: string | null, body: Buffer, options: { filename?: string; type?: string; kind?: 'csv' } = {}) {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(body)], { type: options.type ?? 'image/png' }), options.filename ?? 'photo.png');
  const res = await fetch(`${baseUrl}/uploads${options.kind ? `?kind=${options.kind}` : ''}`, {
    method: 'POST',
    body: form,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: res.status, body: (await res.json()) as { id: string; url: string; thumbnailUrl: string | null; error?: { code: string } } };
}
