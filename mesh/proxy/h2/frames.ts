// HTTP/2 frames (RFC 9113 section 4 and 6): the constants, an incremental reader that cuts a byte stream
// into frames without copying a payload that arrived whole, and the writers of the frames we send.
// Pure: no sockets here, so the reader is fuzzed directly.

export const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
export const FRAME_HEADER = 9;

export const FrameType = {
  Data: 0x0,
  Headers: 0x1,
  Priority: 0x2,
  RstStream: 0x3,
  Settings: 0x4,
  PushPromise: 0x5,
  Ping: 0x6,
  Goaway: 0x7,
  WindowUpdate: 0x8,
  Continuation: 0x9,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export const Flag = {
  EndStream: 0x1,
  Ack: 0x1,
  EndHeaders: 0x4,
  Padded: 0x8,
  Priority: 0x20,
} as const;
export type Flag = (typeof Flag)[keyof typeof Flag];

export const ErrorCode = {
  NoError: 0x0,
  ProtocolError: 0x1,
  InternalError: 0x2,
  FlowControlError: 0x3,
  SettingsTimeout: 0x4,
  StreamClosed: 0x5,
  FrameSizeError: 0x6,
  RefusedStream: 0x7,
  Cancel: 0x8,
  CompressionError: 0x9,
  ConnectError: 0xa,
  EnhanceYourCalm: 0xb,
  InadequateSecurity: 0xc,
  Http11Required: 0xd,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const Setting = {
  HeaderTableSize: 0x1,
  EnablePush: 0x2,
  MaxConcurrentStreams: 0x3,
  InitialWindowSize: 0x4,
  MaxFrameSize: 0x5,
  MaxHeaderListSize: 0x6,
  EnableConnectProtocol: 0x8,
} as const;
export type Setting = (typeof Setting)[keyof typeof Setting];

/** RFC 9113 limits. */
export const DEFAULT_WINDOW = 65_535;
export const MAX_WINDOW = 2 ** 31 - 1;
export const MIN_MAX_FRAME_SIZE = 16_384;
export const MAX_MAX_FRAME_SIZE = 2 ** 24 - 1;

/** A violation that ends the connection with GOAWAY (RFC 9113 5.4.1). */
export class ConnectionError extends Error {
  override name = "ConnectionError";
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  /** A view into the bytes read when the frame arrived in one piece; valid until the reader's caller returns. */
  payload: Buffer;
}

/** A piece of a DATA frame's payload, handed out as it arrives (see FrameReader). */
export interface DataPart {
  streamId: number;
  flags: number;
  /** The whole frame's payload length (windows are charged by frame). */
  frameLength: number;
  part: Buffer;
  first: boolean;
  last: boolean;
}

/**
 * Cuts frames out of the chunks a socket delivers. A frame whose payload lies within one chunk is handed
 * out as a view of it (no copy); one that spans chunks is assembled in a buffer sized to it, which is
 * bounded by `maxFrameSize` (what we advertised) before anything is allocated. With `onData`, unpadded
 * DATA frames are never assembled: their payload goes out in pieces as they arrive (a bulk stream then
 * allocates and copies nothing here).
 */
export class FrameReader {
  maxFrameSize: number;
  private partial: Buffer | undefined;
  private filled = 0;
  private readonly head = Buffer.alloc(FRAME_HEADER);
  private headFilled = 0;
  /** The DATA frame being streamed, and how many of its bytes are still to come. */
  private data: Omit<DataPart, "part" | "last"> | undefined;
  private dataLeft = 0;

  constructor(maxFrameSize: number) {
    this.maxFrameSize = maxFrameSize;
  }

  /** Calls `onFrame` for each complete frame in `chunk` (and `onData` for DATA); throws ConnectionError on a frame too large. */
  push(chunk: Buffer, onFrame: (f: Frame) => void, onData?: (d: DataPart) => void): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.data) {
        const take = Math.min(this.dataLeft, chunk.length - pos);
        this.dataLeft -= take;
        const d = this.data;
        if (this.dataLeft === 0) this.data = undefined;
        onData!({ ...d, part: chunk.subarray(pos, pos + take), last: this.dataLeft === 0 });
        d.first = false;
        pos += take;
        continue;
      }
      if (this.partial) {
        const take = Math.min(this.partial.length - this.filled, chunk.length - pos);
        chunk.copy(this.partial, this.filled, pos, pos + take);
        this.filled += take;
        pos += take;
        if (this.filled < this.partial.length) return;
        const whole = this.partial;
        this.partial = undefined;
        this.deliver(this.head, whole, onFrame);
        continue;
      }
      // The frame header: read in place when whole in this chunk, else gathered across chunks.
      let head: Buffer;
      if (this.headFilled > 0 || chunk.length - pos < FRAME_HEADER) {
        const take = Math.min(FRAME_HEADER - this.headFilled, chunk.length - pos);
        chunk.copy(this.head, this.headFilled, pos, pos + take);
        this.headFilled += take;
        pos += take;
        if (this.headFilled < FRAME_HEADER) return;
        this.headFilled = 0;
        head = this.head;
      } else {
        head = chunk.subarray(pos, pos + FRAME_HEADER);
        pos += FRAME_HEADER;
      }
      const len = this.lengthOf(head);
      const type = head[3]!;
      const flags = head[4]!;
      if (onData && type === FrameType.Data && !(flags & Flag.Padded)) {
        const d = { streamId: head.readUInt32BE(5) & 0x7fffffff, flags, frameLength: len, first: true };
        if (len === 0) {
          onData({ ...d, part: chunk.subarray(pos, pos), last: true });
          continue;
        }
        this.data = d;
        this.dataLeft = len;
        continue;
      }
      if (chunk.length - pos >= len) {
        this.deliver(head, chunk.subarray(pos, pos + len), onFrame);
        pos += len;
      } else {
        if (head !== this.head) head.copy(this.head);
        this.partial = Buffer.allocUnsafe(len);
        this.filled = 0;
      }
    }
  }

  private lengthOf(b: Buffer): number {
    const len = (b[0]! << 16) | (b[1]! << 8) | b[2]!;
    if (len > this.maxFrameSize) throw new ConnectionError(ErrorCode.FrameSizeError, `frame of ${len} bytes above the ${this.maxFrameSize} advertised`);
    return len;
  }

  private deliver(head: Buffer, payload: Buffer, onFrame: (f: Frame) => void): void {
    onFrame({ type: head[3]!, flags: head[4]!, streamId: head.readUInt32BE(5) & 0x7fffffff, payload });
  }
}

export function frameHeader(length: number, type: FrameType, flags: number, streamId: number): Buffer {
  const h = Buffer.allocUnsafe(FRAME_HEADER);
  h[0] = (length >>> 16) & 0xff;
  h[1] = (length >>> 8) & 0xff;
  h[2] = length & 0xff;
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId & 0x7fffffff, 5);
  return h;
}

export function settingsFrame(settings: ReadonlyArray<readonly [Setting, number]>): Buffer {
  const f = Buffer.allocUnsafe(FRAME_HEADER + 6 * settings.length);
  frameHeader(6 * settings.length, FrameType.Settings, 0, 0).copy(f);
  settings.forEach(([id, value], i) => {
    f.writeUInt16BE(id, FRAME_HEADER + 6 * i);
    f.writeUInt32BE(value, FRAME_HEADER + 6 * i + 2);
  });
  return f;
}

export const SETTINGS_ACK = frameHeader(0, FrameType.Settings, Flag.Ack, 0);

export function pingFrame(data: Buffer, ack: boolean): Buffer {
  return Buffer.concat([frameHeader(8, FrameType.Ping, ack ? Flag.Ack : 0, 0), data]);
}

export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  const f = frameHeader(4, FrameType.WindowUpdate, 0, streamId);
  return Buffer.concat([f, u32(increment & 0x7fffffff)]);
}

export function rstStreamFrame(streamId: number, code: ErrorCode): Buffer {
  return Buffer.concat([frameHeader(4, FrameType.RstStream, 0, streamId), u32(code)]);
}

export function goawayFrame(lastStreamId: number, code: ErrorCode, debug = ""): Buffer {
  const d = Buffer.from(debug.slice(0, 256), "utf8");
  return Buffer.concat([frameHeader(8 + d.length, FrameType.Goaway, 0, 0), u32(lastStreamId & 0x7fffffff), u32(code), d]);
}

/** HEADERS (and CONTINUATION frames when the block exceeds the peer's frame size). */
export function headersFrames(streamId: number, block: Buffer, endStream: boolean, maxFrameSize: number): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  let first = true;
  do {
    const len = Math.min(maxFrameSize, block.length - pos);
    const last = pos + len >= block.length;
    const type = first ? FrameType.Headers : FrameType.Continuation;
    const flags = (last ? Flag.EndHeaders : 0) | (first && endStream ? Flag.EndStream : 0);
    out.push(frameHeader(len, type, flags, streamId), block.subarray(pos, pos + len));
    pos += len;
    first = false;
  } while (pos < block.length);
  return out;
}

function u32(v: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}
