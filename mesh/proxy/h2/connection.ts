// An HTTP/2 connection for HBONE (RFC 9113), client or server, written directly on a TLS socket: one
// layer between the socket and the relay. It implements what the subset needs and what a peer may send:
// the preface, SETTINGS (and their ACK), flow control both ways on streams and the connection,
// HEADERS/CONTINUATION with HPACK, DATA, RST_STREAM, PING, GOAWAY; PRIORITY is read and ignored, push is
// refused. Everything a peer can make it hold is bounded: frame and header sizes (by what we advertise),
// streams (SETTINGS_MAX_CONCURRENT_STREAMS), resets per second, and what sits unread in the socket.
// Writes issued in one tick go out as one writev (the socket is corked until the next tick).
import type { Duplex } from "node:stream";
import {
  ConnectionError,
  DEFAULT_WINDOW,
  ErrorCode,
  Flag,
  type DataPart,
  type Frame,
  FrameReader,
  FrameType,
  frameHeader,
  goawayFrame,
  headersFrames,
  MAX_MAX_FRAME_SIZE,
  MAX_WINDOW,
  MIN_MAX_FRAME_SIZE,
  PREFACE,
  pingFrame,
  rstStreamFrame,
  SETTINGS_ACK,
  Setting,
  settingsFrame,
  windowUpdateFrame,
} from "./frames.ts";
import { checkHeaders, MalformedHeaders } from "./header-rules.ts";
import { HeaderListTooLarge, type HeaderList, HpackDecoder, HpackEncoder, HpackError } from "./hpack.ts";
import { H2Stream, type StreamOwner } from "./stream.ts";

export interface H2Settings {
  /** Our receive window per stream (SETTINGS_INITIAL_WINDOW_SIZE). */
  streamWindow: number;
  /** Our receive window for the whole connection (raised from 65,535 by a WINDOW_UPDATE at start). */
  connectionWindow: number;
  /** The largest frame we accept (SETTINGS_MAX_FRAME_SIZE). */
  maxFrameSize: number;
  /** Streams the peer may open at once (a server's bound; a client advertises it too). */
  maxConcurrentStreams: number;
  maxHeaderListSize: number;
}

export interface H2ConnectionOptions {
  role: "client" | "server";
  settings: H2Settings;
  /** Server: the peer opened a stream (headers checked against RFC 9113 8.2-8.3). */
  onStream?: (stream: H2Stream, headers: HeaderList) => void;
  /** The connection is over (after GOAWAY both ways, a socket close, or an error). */
  onClose?: (err?: Error) => void;
  /** Peer-initiated resets tolerated per second before ENHANCE_YOUR_CALM (the "rapid reset" attack). */
  maxResetsPerSecond?: number;
  /** Bytes unread by the peer in the socket above which DATA waits, and (x4) the connection is ended. */
  maxWriteBuffer?: number;
}

interface PeerSettings {
  initialWindow: number;
  maxFrameSize: number;
  maxConcurrentStreams: number;
}

export class H2Connection implements StreamOwner {
  private readonly socket: Duplex;
  private readonly opts: H2ConnectionOptions;
  private readonly reader: FrameReader;
  private readonly decoder: HpackDecoder;
  private readonly encoder = new HpackEncoder();
  private readonly streams = new Map<number, H2Stream>();
  private readonly peer: PeerSettings = { initialWindow: DEFAULT_WINDOW, maxFrameSize: MIN_MAX_FRAME_SIZE, maxConcurrentStreams: Number.MAX_SAFE_INTEGER };
  private connSendWindow = DEFAULT_WINDOW;
  private connRecvWindow = DEFAULT_WINDOW;
  private connUnreturned = 0;
  private nextStreamId: number;
  private lastPeerStreamId = 0;
  /** Streams waiting for a send window (or for the socket to drain). */
  private readonly blocked = new Set<H2Stream>();
  private prefaceLeft: number;
  private headerBlock: { streamId: number; parts: Buffer[]; bytes: number; endStream: boolean } | undefined;
  private corked = false;
  private goawaySent = false;
  private goawayReceived: number | undefined;
  private over = false;
  private resets = 0;
  private resetWindowStart = 0;
  private readonly pings = new Map<string, { resolve: (ms: number) => void; reject: (err: Error) => void }>();
  private readonly maxWriteBuffer: number;

  constructor(socket: Duplex, opts: H2ConnectionOptions) {
    this.socket = socket;
    this.opts = opts;
    this.reader = new FrameReader(opts.settings.maxFrameSize);
    this.decoder = new HpackDecoder({ tableSize: 4096, maxHeaderListSize: opts.settings.maxHeaderListSize });
    this.nextStreamId = opts.role === "client" ? 1 : 2;
    this.prefaceLeft = opts.role === "server" ? PREFACE.length : 0;
    this.maxWriteBuffer = opts.maxWriteBuffer ?? 1024 * 1024;
    const s = opts.settings;
    for (const [name, v, min, max] of [
      ["streamWindow", s.streamWindow, 1, MAX_WINDOW],
      ["connectionWindow", s.connectionWindow, DEFAULT_WINDOW, MAX_WINDOW],
      ["maxFrameSize", s.maxFrameSize, MIN_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE],
    ] as const) {
      if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${name} ${v} is outside ${min}..${max}`);
    }
  }

  /** Sends the preface (client) and our SETTINGS, and starts reading. */
  start(): void {
    const s = this.opts.settings;
    if (this.opts.role === "client") this.write(PREFACE);
    this.write(
      settingsFrame([
        [Setting.EnablePush, 0],
        [Setting.MaxConcurrentStreams, s.maxConcurrentStreams],
        [Setting.InitialWindowSize, s.streamWindow],
        [Setting.MaxFrameSize, s.maxFrameSize],
        [Setting.MaxHeaderListSize, s.maxHeaderListSize],
      ]),
    );
    this.connRecvWindow = s.connectionWindow;
    if (s.connectionWindow > DEFAULT_WINDOW) this.write(windowUpdateFrame(0, s.connectionWindow - DEFAULT_WINDOW));
    this.socket.on("data", (chunk: Buffer) => this.onData(chunk));
    this.socket.on("drain", () => this.flushBlocked());
    this.socket.on("end", () => this.fail(undefined, "the peer closed the connection"));
    this.socket.on("close", () => this.fail(undefined, "the connection closed"));
    this.socket.on("error", (err: Error) => this.fail(err));
  }

  /** Streams open now. */
  get openStreams(): number {
    return this.streams.size;
  }

  /** False once either side sent GOAWAY or the connection ended: open no more streams on it. */
  get usable(): boolean {
    return !this.over && !this.goawaySent && this.goawayReceived === undefined;
  }

  /** Client: opens a stream with these request headers (HEADERS without END_STREAM). */
  request(headers: ReadonlyArray<readonly [string, string]>): H2Stream {
    if (this.opts.role !== "client") throw new Error("request() is for clients");
    if (!this.usable) throw new Error("the HTTP/2 connection is closing");
    if (this.streams.size >= this.peer.maxConcurrentStreams) throw new Error(`the peer allows ${this.peer.maxConcurrentStreams} streams at once`);
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const stream = this.newStream(id);
    this.sendHeaders(stream, headers, false);
    return stream;
  }

  /** Sends a PING and resolves with the round trip in ms when it is acknowledged. */
  ping(): Promise<number> {
    const data = Buffer.allocUnsafe(8);
    const t0 = performance.now();
    data.writeDoubleBE(t0);
    return new Promise((resolve, reject) => {
      if (this.over) return reject(new Error("the HTTP/2 connection is over"));
      this.pings.set(data.toString("hex"), { resolve: () => resolve(performance.now() - t0), reject });
      this.write(pingFrame(data, false));
    });
  }

  /** GOAWAY: no new streams; open ones finish; the socket ends when the last one does. */
  close(code: ErrorCode = ErrorCode.NoError, debug = ""): void {
    if (this.over) return;
    if (!this.goawaySent) {
      this.goawaySent = true;
      this.write(goawayFrame(this.lastPeerStreamId, code, debug));
    }
    this.endIfIdle();
  }

  /** Ends everything now: every stream closes with `err`, the socket is destroyed. */
  destroy(err?: Error): void {
    this.fail(err, "destroyed");
  }

  // --- StreamOwner ---

  sendData(stream: H2Stream): void {
    if (this.over) return;
    if (this.socket.writableLength > this.maxWriteBuffer) {
      this.blocked.add(stream);
      return;
    }
    for (;;) {
      const room = Math.min(stream.sendWindow, this.connSendWindow, this.peer.maxFrameSize);
      if (stream.queue.length === 0 || room <= 0) break;
      const piece = stream.takeQueued(room)!;
      const n = piece.bytes.length;
      stream.sendWindow -= n;
      this.connSendWindow -= n;
      const last = stream.localEnded && stream.queue.length === 0;
      this.write(frameHeader(n, FrameType.Data, last ? Flag.EndStream : 0, stream.id));
      this.write(piece.bytes, piece.cb);
      if (last) return this.localEndSent(stream);
    }
    if (stream.queue.length > 0) this.blocked.add(stream);
    else if (stream.localEnded && !stream.isClosed && !this.endSent.has(stream)) {
      this.write(frameHeader(0, FrameType.Data, Flag.EndStream, stream.id));
      this.localEndSent(stream);
    }
  }

  sendHeaders(stream: H2Stream, headers: ReadonlyArray<readonly [string, string]>, endStream: boolean): void {
    if (this.over) return;
    for (const part of headersFrames(stream.id, this.encoder.encode(headers), endStream, this.peer.maxFrameSize)) this.write(part);
    if (endStream) this.localEndSent(stream);
  }

  sendReset(stream: H2Stream, code: ErrorCode): void {
    if (!this.over) this.write(rstStreamFrame(stream.id, code));
  }

  returnWindow(stream: H2Stream, bytes: number): void {
    if (this.over || bytes <= 0) return;
    stream.held = Math.max(0, stream.held - bytes);
    stream.unreturned += bytes;
    this.connUnreturned += bytes;
    // Returned in batches of a quarter window: fewer WINDOW_UPDATE frames, and the peer never stalls.
    if (stream.unreturned >= this.opts.settings.streamWindow / 4 && !stream.remoteEnded) {
      this.write(windowUpdateFrame(stream.id, stream.unreturned));
      stream.recvWindow += stream.unreturned;
      stream.unreturned = 0;
    }
    this.returnConnectionWindow();
  }

  closed(stream: H2Stream): void {
    // Bytes delivered that the consumer will never pass on: their connection window comes back now,
    // or every stream reset mid-transfer would shrink the connection's window for good.
    if (stream.held > 0 && !this.over) {
      this.connUnreturned += stream.held;
      stream.held = 0;
      this.returnConnectionWindow();
    }
    this.streams.delete(stream.id);
    this.blocked.delete(stream);
    this.endSent.delete(stream);
    this.endIfIdle();
  }

  // --- internals ---

  private readonly endSent = new Set<H2Stream>();

  private localEndSent(stream: H2Stream): void {
    stream.localEnded = true;
    this.endSent.add(stream);
    if (stream.remoteEnded) stream.finish(null);
  }

  private returnConnectionWindow(): void {
    if (this.connUnreturned >= this.opts.settings.connectionWindow / 4) {
      this.write(windowUpdateFrame(0, this.connUnreturned));
      this.connRecvWindow += this.connUnreturned;
      this.connUnreturned = 0;
    }
  }

  private newStream(id: number): H2Stream {
    const highWater = Math.max(64 * 1024, this.peer.initialWindow);
    const s = new H2Stream(id, this, this.peer.initialWindow, this.opts.settings.streamWindow, highWater);
    this.streams.set(id, s);
    return s;
  }

  private write(buf: Buffer, cb?: () => void): void {
    if (this.socket.destroyed) {
      cb?.();
      return;
    }
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(buf, cb ? () => cb() : undefined);
    if (this.socket.writableLength > 4 * this.maxWriteBuffer) {
      // The peer keeps sending what we must answer (PINGs, SETTINGS) and does not read the answers.
      this.fail(new ConnectionError(ErrorCode.EnhanceYourCalm, "the peer does not read what it makes us send"));
    }
  }

  private flushBlocked(): void {
    for (const s of [...this.blocked]) {
      this.blocked.delete(s);
      this.sendData(s);
    }
  }

  private onData(chunk: Buffer): void {
    if (this.over) return;
    try {
      if (this.prefaceLeft > 0) {
        const n = Math.min(this.prefaceLeft, chunk.length);
        const at = PREFACE.length - this.prefaceLeft;
        if (!chunk.subarray(0, n).equals(PREFACE.subarray(at, at + n))) throw new ConnectionError(ErrorCode.ProtocolError, "not an HTTP/2 connection preface");
        this.prefaceLeft -= n;
        chunk = chunk.subarray(n);
      }
      this.reader.push(
        chunk,
        (f) => this.onFrame(f),
        (d) => this.onDataPart(d),
      );
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private onFrame(f: Frame): void {
    if (this.over) return;
    if (this.headerBlock && f.type !== FrameType.Continuation) throw new ConnectionError(ErrorCode.ProtocolError, "a header block was interrupted");
    switch (f.type) {
      case FrameType.Data:
        return this.onDataFrame(f);
      case FrameType.Headers:
        return this.onHeadersFrame(f);
      case FrameType.Continuation:
        return this.onContinuation(f);
      case FrameType.Priority:
        if (f.streamId === 0) throw new ConnectionError(ErrorCode.ProtocolError, "PRIORITY on stream 0");
        if (f.payload.length !== 5) this.resetUnknown(f.streamId, ErrorCode.FrameSizeError);
        return;
      case FrameType.RstStream:
        return this.onReset(f);
      case FrameType.Settings:
        return this.onSettings(f);
      case FrameType.PushPromise:
        throw new ConnectionError(ErrorCode.ProtocolError, "PUSH_PROMISE with push disabled");
      case FrameType.Ping:
        return this.onPing(f);
      case FrameType.Goaway:
        return this.onGoaway(f);
      case FrameType.WindowUpdate:
        return this.onWindowUpdate(f);
      default:
        return; // Unknown frame types are ignored (RFC 9113 4.1).
    }
  }

  /** Strips padding; returns the content. */
  private unpad(f: Frame, extra = 0): Buffer {
    if (!(f.flags & Flag.Padded)) return extra ? f.payload.subarray(extra) : f.payload;
    if (f.payload.length < 1) throw new ConnectionError(ErrorCode.FrameSizeError, "padded frame without a pad length");
    const pad = f.payload[0]!;
    if (pad + 1 + extra > f.payload.length) throw new ConnectionError(ErrorCode.ProtocolError, "padding longer than the frame");
    return f.payload.subarray(1 + extra, f.payload.length - pad);
  }

  /** The stream the DATA frame being read belongs to (undefined: its bytes are dropped). */
  private dataTarget: H2Stream | undefined;

  /**
   * Charges a DATA frame to the windows and finds its stream; returns the stream to deliver to, or
   * undefined when the frame's bytes are to be dropped (their connection window already returned).
   */
  private acceptData(streamId: number, frameLength: number): H2Stream | undefined {
    if (this.headerBlock) throw new ConnectionError(ErrorCode.ProtocolError, "a header block was interrupted");
    if (streamId === 0) throw new ConnectionError(ErrorCode.ProtocolError, "DATA on stream 0");
    this.connRecvWindow -= frameLength;
    if (this.connRecvWindow < 0) throw new ConnectionError(ErrorCode.FlowControlError, "the peer sent past the connection window");
    const stream = this.streams.get(streamId);
    const drop = () => {
      this.connUnreturned += frameLength;
      this.returnConnectionWindow();
      return undefined;
    };
    if (!stream || stream.remoteEnded) {
      if (!stream && this.isIdle(streamId)) throw new ConnectionError(ErrorCode.ProtocolError, `DATA on idle stream ${streamId}`);
      // A stream we closed may still get frames in flight: their bytes still count for the connection.
      if (stream) this.streamError(stream, ErrorCode.StreamClosed);
      return drop();
    }
    stream.recvWindow -= frameLength;
    if (stream.recvWindow < 0) {
      this.streamError(stream, ErrorCode.FlowControlError);
      return drop();
    }
    return stream;
  }

  /** Unpadded DATA, piece by piece as it arrives (FrameReader): nothing assembled, nothing copied. */
  private onDataPart(d: DataPart): void {
    if (this.over) return;
    if (d.first) this.dataTarget = this.acceptData(d.streamId, d.frameLength);
    const stream = this.dataTarget;
    if (!stream) return; // dropped whole, its window already returned
    if (stream.isClosed) {
      // Reset while its frame was arriving: the rest is dropped, and its share of the window comes back.
      if (d.last) this.dataTarget = undefined;
      this.connUnreturned += d.part.length;
      this.returnConnectionWindow();
      return;
    }
    if (d.part.length > 0) {
      stream.held += d.part.length;
      stream.deliverData(d.part);
    }
    if (d.last) {
      this.dataTarget = undefined;
      if (d.flags & Flag.EndStream && !stream.isClosed) this.remoteEnd(stream);
    }
  }

  /** Padded DATA, which the reader assembles whole. */
  private onDataFrame(f: Frame): void {
    const stream = this.acceptData(f.streamId, f.payload.length);
    const data = this.unpad(f);
    if (!stream) return;
    // Padding is not passed on: its window goes back at once.
    if (f.payload.length > data.length) this.returnWindow(stream, f.payload.length - data.length);
    if (data.length > 0) {
      stream.held += data.length;
      stream.deliverData(data);
    }
    if (f.flags & Flag.EndStream && !stream.isClosed) this.remoteEnd(stream);
  }

  private onHeadersFrame(f: Frame): void {
    if (f.streamId === 0) throw new ConnectionError(ErrorCode.ProtocolError, "HEADERS on stream 0");
    const view = this.unpad(f, f.flags & Flag.Priority ? 5 : 0);
    // A block continued in later frames outlives this read: it keeps a copy, not a view of the read buffer.
    const block = f.flags & Flag.EndHeaders ? view : Buffer.from(view);
    this.checkBlockSize(block.length);
    this.headerBlock = { streamId: f.streamId, parts: [block], bytes: block.length, endStream: (f.flags & Flag.EndStream) !== 0 };
    if (f.flags & Flag.EndHeaders) this.headersDone();
  }

  private onContinuation(f: Frame): void {
    const hb = this.headerBlock;
    if (!hb || f.streamId !== hb.streamId) throw new ConnectionError(ErrorCode.ProtocolError, "CONTINUATION without a header block");
    hb.bytes += f.payload.length;
    this.checkBlockSize(hb.bytes);
    hb.parts.push(Buffer.from(f.payload));
    if (f.flags & Flag.EndHeaders) this.headersDone();
  }

  /**
   * A header block is bounded before it is decoded, whether it comes in one frame or many: twice the
   * list limit allows for literal overhead; more is a peer making us decode for nothing.
   */
  private checkBlockSize(bytes: number): void {
    if (bytes > 2 * this.opts.settings.maxHeaderListSize + 1024) throw new ConnectionError(ErrorCode.EnhanceYourCalm, "header block too large");
  }

  private headersDone(): void {
    const hb = this.headerBlock!;
    this.headerBlock = undefined;
    const block = hb.parts.length === 1 ? hb.parts[0]! : Buffer.concat(hb.parts);
    let headers: HeaderList | undefined;
    let tooLarge = false;
    try {
      headers = this.decoder.decode(block);
    } catch (err) {
      if (err instanceof HpackError) throw new ConnectionError(ErrorCode.CompressionError, err.message);
      if (!(err instanceof HeaderListTooLarge)) throw err;
      tooLarge = true;
    }
    const id = hb.streamId;
    const stream = this.streams.get(id);
    if (stream) return this.trailersOrResponse(stream, headers, tooLarge, hb.endStream);
    if (this.opts.role === "client" || id % 2 === 0) {
      if (this.isIdle(id)) throw new ConnectionError(ErrorCode.ProtocolError, `HEADERS on stream ${id} the peer may not open`);
      return; // A stream already closed: its block was decoded for HPACK's sake and is dropped.
    }
    if (id <= this.lastPeerStreamId) throw new ConnectionError(ErrorCode.StreamClosed, `HEADERS on closed stream ${id}`);
    this.lastPeerStreamId = id;
    if (this.goawaySent) return this.resetUnknown(id, ErrorCode.RefusedStream);
    if (this.streams.size >= this.opts.settings.maxConcurrentStreams) return this.resetUnknown(id, ErrorCode.RefusedStream);
    const s = this.newStream(id);
    if (tooLarge) {
      s.respond(431);
      return;
    }
    try {
      checkHeaders(headers!, "request");
    } catch (err) {
      if (err instanceof MalformedHeaders) return this.streamError(s, ErrorCode.ProtocolError);
      throw err;
    }
    s.headers = headers;
    if (hb.endStream) s.remoteEnded = true;
    if (this.opts.onStream) this.opts.onStream(s, headers!);
    else s.respond(501);
  }

  private trailersOrResponse(stream: H2Stream, headers: HeaderList | undefined, tooLarge: boolean, endStream: boolean): void {
    if (stream.remoteEnded) return this.streamError(stream, ErrorCode.StreamClosed);
    if (this.opts.role === "client" && stream.headers === undefined) {
      if (tooLarge) return this.streamError(stream, ErrorCode.ProtocolError);
      try {
        checkHeaders(headers!, "response");
      } catch (err) {
        if (err instanceof MalformedHeaders) return this.streamError(stream, ErrorCode.ProtocolError);
        throw err;
      }
      const status = Number(headers!.find(([n]) => n === ":status")![1]);
      // 1xx responses are informational: the real one follows.
      if (status >= 100 && status < 200) return;
      stream.headers = headers;
      stream.onResponse?.(status, headers!);
    }
    if (endStream) this.remoteEnd(stream);
  }

  private remoteEnd(stream: H2Stream): void {
    stream.remoteEnded = true;
    stream.deliverEnd();
    if (this.endSent.has(stream)) stream.finish(null);
  }

  private onReset(f: Frame): void {
    if (f.streamId === 0) throw new ConnectionError(ErrorCode.ProtocolError, "RST_STREAM on stream 0");
    if (f.payload.length !== 4) throw new ConnectionError(ErrorCode.FrameSizeError, "RST_STREAM is 4 bytes");
    if (this.isIdle(f.streamId)) throw new ConnectionError(ErrorCode.ProtocolError, `RST_STREAM on idle stream ${f.streamId}`);
    const now = performance.now();
    if (now - this.resetWindowStart > 1000) {
      this.resetWindowStart = now;
      this.resets = 0;
    }
    if (++this.resets > (this.opts.maxResetsPerSecond ?? 200)) throw new ConnectionError(ErrorCode.EnhanceYourCalm, "too many stream resets");
    this.streams.get(f.streamId)?.finish(f.payload.readUInt32BE(0) as ErrorCode);
  }

  private onSettings(f: Frame): void {
    if (f.streamId !== 0) throw new ConnectionError(ErrorCode.ProtocolError, "SETTINGS on a stream");
    if (f.flags & Flag.Ack) {
      if (f.payload.length !== 0) throw new ConnectionError(ErrorCode.FrameSizeError, "SETTINGS ACK with a payload");
      return;
    }
    if (f.payload.length % 6 !== 0) throw new ConnectionError(ErrorCode.FrameSizeError, "SETTINGS length not a multiple of 6");
    for (let i = 0; i < f.payload.length; i += 6) {
      const id = f.payload.readUInt16BE(i);
      const v = f.payload.readUInt32BE(i + 2);
      switch (id) {
        case Setting.HeaderTableSize:
          this.encoder.tableSizeChanged();
          break;
        case Setting.EnablePush:
          if (v > 1) throw new ConnectionError(ErrorCode.ProtocolError, "SETTINGS_ENABLE_PUSH above 1");
          break;
        case Setting.MaxConcurrentStreams:
          this.peer.maxConcurrentStreams = v;
          break;
        case Setting.InitialWindowSize: {
          if (v > MAX_WINDOW) throw new ConnectionError(ErrorCode.FlowControlError, "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1");
          const delta = v - this.peer.initialWindow;
          this.peer.initialWindow = v;
          for (const s of this.streams.values()) {
            s.sendWindow += delta;
            if (s.sendWindow > MAX_WINDOW) throw new ConnectionError(ErrorCode.FlowControlError, "a stream window overflowed");
          }
          break;
        }
        case Setting.MaxFrameSize:
          if (v < MIN_MAX_FRAME_SIZE || v > MAX_MAX_FRAME_SIZE) throw new ConnectionError(ErrorCode.ProtocolError, `SETTINGS_MAX_FRAME_SIZE ${v} out of range`);
          this.peer.maxFrameSize = v;
          break;
        default:
          break; // Unknown settings are ignored (RFC 9113 6.5.2).
      }
    }
    this.write(SETTINGS_ACK);
    this.flushBlocked();
  }

  private onPing(f: Frame): void {
    if (f.streamId !== 0) throw new ConnectionError(ErrorCode.ProtocolError, "PING on a stream");
    if (f.payload.length !== 8) throw new ConnectionError(ErrorCode.FrameSizeError, "PING is 8 bytes");
    if (f.flags & Flag.Ack) {
      const key = f.payload.toString("hex");
      const waiting = this.pings.get(key);
      this.pings.delete(key);
      waiting?.resolve(0);
      return;
    }
    this.write(pingFrame(Buffer.from(f.payload), true));
  }

  private onGoaway(f: Frame): void {
    if (f.streamId !== 0) throw new ConnectionError(ErrorCode.ProtocolError, "GOAWAY on a stream");
    if (f.payload.length < 8) throw new ConnectionError(ErrorCode.FrameSizeError, "GOAWAY is at least 8 bytes");
    const last = f.payload.readUInt32BE(0) & 0x7fffffff;
    this.goawayReceived = last;
    // Our streams above the peer's last were never processed: they may be retried elsewhere.
    for (const s of [...this.streams.values()]) if (s.id % 2 === this.nextStreamId % 2 && s.id > last) s.finish(ErrorCode.RefusedStream);
    this.endIfIdle();
  }

  private onWindowUpdate(f: Frame): void {
    if (f.payload.length !== 4) throw new ConnectionError(ErrorCode.FrameSizeError, "WINDOW_UPDATE is 4 bytes");
    const inc = f.payload.readUInt32BE(0) & 0x7fffffff;
    if (f.streamId === 0) {
      if (inc === 0) throw new ConnectionError(ErrorCode.ProtocolError, "WINDOW_UPDATE of 0 on the connection");
      this.connSendWindow += inc;
      if (this.connSendWindow > MAX_WINDOW) throw new ConnectionError(ErrorCode.FlowControlError, "the connection window overflowed");
      return this.flushBlocked();
    }
    const s = this.streams.get(f.streamId);
    if (!s) {
      if (this.isIdle(f.streamId)) throw new ConnectionError(ErrorCode.ProtocolError, `WINDOW_UPDATE on idle stream ${f.streamId}`);
      return;
    }
    if (inc === 0) return this.streamError(s, ErrorCode.ProtocolError);
    s.sendWindow += inc;
    if (s.sendWindow > MAX_WINDOW) return this.streamError(s, ErrorCode.FlowControlError);
    this.blocked.delete(s);
    this.sendData(s);
  }

  /** A stream id neither side has used yet. */
  private isIdle(id: number): boolean {
    const ours = id % 2 === this.nextStreamId % 2;
    return ours ? id >= this.nextStreamId : id > this.lastPeerStreamId;
  }

  private streamError(stream: H2Stream, code: ErrorCode): void {
    stream.reset(code);
  }

  private resetUnknown(id: number, code: ErrorCode): void {
    this.write(rstStreamFrame(id, code));
  }

  private endIfIdle(): void {
    if (this.over || this.streams.size > 0) return;
    if (this.goawaySent || this.goawayReceived !== undefined) {
      this.over = true;
      this.socket.end();
      // A peer that never closes its side must not hold the socket: destroy after a grace period.
      setTimeout(() => this.socket.destroy(), 1000).unref();
      this.opts.onClose?.();
    }
  }

  private fail(err: Error | undefined, why?: string): void {
    if (this.over) return;
    if (err instanceof ConnectionError && !this.socket.destroyed) {
      this.socket.write(goawayFrame(this.lastPeerStreamId, err.code, err.message));
      if (this.corked) {
        this.corked = false;
        this.socket.uncork();
      }
    }
    this.over = true;
    const reason = err ?? new Error(why ?? "closed");
    for (const s of [...this.streams.values()]) s.finish(err instanceof ConnectionError ? err.code : ErrorCode.Cancel, reason);
    this.streams.clear();
    for (const p of this.pings.values()) p.reject(reason);
    this.pings.clear();
    // A GOAWAY goes out before the socket ends, unless the peer is not reading: then there is no point.
    if (err instanceof ConnectionError && this.socket.writableLength <= this.maxWriteBuffer) this.socket.end(() => this.socket.destroy());
    else this.socket.destroy();
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this.opts.onClose?.(err);
  }
}
