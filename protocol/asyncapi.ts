import { z } from 'zod';
import { ackOf } from './errors.js';
import { events, pushes } from './index.js';
import type { Access } from './spec.js';

const schema = (s: z.ZodType, io: 'input' | 'output') => z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'draft-7' });

function envelope(data: z.ZodType) {
  return z.object({ seq: z.int(), event: z.string(), at: z.string(), data });
}

function rolesText(roles: Access): string {
  if (roles === 'anyone') return 'anyone, also before authentication';
  if (roles === 'signedIn') return 'any signed-in user';
  return roles.join(', ');
}

/** The AsyncAPI 3 document, derived from `protocol/` alone. */
export function asyncApiDocument(info: { version: string; host?: string }) {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(events)) {
    channels[name] = {
      address: name,
      description: spec.summary,
      messages: {
        request: { name: `${name} input`, payload: schema(spec.input, 'input') },
        reply: { name: `${name} ack`, payload: schema(ackOf(spec.result), 'output') },
      },
    };
    operations[name] = {
      action: 'receive',
      summary: spec.summary,
      description: `Allowed: ${rolesText(spec.roles)}. Emit with an ack callback.`,
      channel: { $ref: `#/channels/${name}` },
      messages: [{ $ref: `#/channels/${name}/messages/request` }],
      reply: { channel: { $ref: `#/channels/${name}` }, messages: [{ $ref: `#/channels/${name}/messages/reply` }] },
      'x-roles': spec.roles,
    };
  }
  for (const [name, spec] of Object.entries(pushes)) {
    channels[name] = {
      address: name,
      description: `${spec.summary} To: ${spec.to}.`,
      messages: { push: { name, payload: schema(spec.stored ? envelope(spec.data) : spec.data, 'output') } },
    };
    operations[`push ${name}`] = {
      action: 'send',
      summary: spec.summary,
      channel: { $ref: `#/channels/${name}` },
      messages: [{ $ref: `#/channels/${name}/messages/push` }],
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Lilium',
      version: info.version,
      description:
        'Socket.IO 4 events of the Lilium ordering backend. Every call is `socket.emit(event, input, ack)`; the ack is `{ ok: true, data }` or `{ ok: false, error: { code, message, details? } }`.',
    },
    defaultContentType: 'application/json',
    servers: { lilium: { host: info.host ?? 'localhost:3000', protocol: 'ws', pathname: '/socket.io/', description: 'Socket.IO, namespace /' } },
    channels,
    operations,
  };
}
