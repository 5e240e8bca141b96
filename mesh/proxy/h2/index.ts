// mesh/proxy/h2: HTTP/2 of our own for HBONE (its only entry point for code outside the folder).
export { H2Connection, type H2ConnectionOptions, type H2Settings } from "./connection.ts";
export { ConnectionError as H2ConnectionError, ErrorCode as H2ErrorCode } from "./frames.ts";
export { H2Duplex } from "./duplex.ts";
export { H2Stream, type StreamSink } from "./stream.ts";
export { headerMap, type HeaderList, HpackDecoder } from "./hpack.ts";
