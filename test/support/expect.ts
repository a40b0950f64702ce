import { RpcError } from '../../protocol/client.js';

/** The RpcError a call rejects with; fails when it resolves or rejects with anything else. */
export async function rejection(p: Promise<unknown>): Promise<RpcError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RpcError) return e;
    throw e;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** 'OK' or the error code of a call. */
export const codeOf = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'OK',
    (e: unknown) => {
      if (e instanceof RpcError) return e.code;
      throw e;
    },
  );
