//! SPDY/3.1 frames as kubectl's port-forward sends them through its WebSocket tunnel
//! (client-go `tunneling_dialer.go`, moby/spdystream's framer): the server's half only, what
//! `docs/upstream/kubernetes-exec-portforward.md` §5 lists. The client's frames arrive split
//! over several WebSocket messages, so they are read from a byte stream; the server sends each
//! frame whole in one message. No flow control: spdystream sends no WINDOW_UPDATE and ignores
//! one.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The subprotocol kubectl 1.31+ offers for a tunnelled port-forward, chosen exactly.
pub const TUNNEL_PROTOCOL: &str = "SPDY/3.1+portforward.k8s.io";

const VERSION: u16 = 3;
const SYN_STREAM: u16 = 1;
const SYN_REPLY: u16 = 2;
const RST_STREAM: u16 = 3;
const PING: u16 = 6;
const GOAWAY: u16 = 7;
/// A DATA frame's flag: the sender's last frame on this stream.
const FLAG_FIN: u8 = 1;

/// The zlib dictionary of SPDY/3's header blocks (the SPDY/3 draft, §2.6.10.1): each word
/// length-prefixed, then status lines, dates and media types run together.
fn header_dictionary() -> Vec<u8> {
    const WORDS: &[&str] = &[
        "options",
        "head",
        "post",
        "put",
        "delete",
        "trace",
        "accept",
        "accept-charset",
        "accept-encoding",
        "accept-language",
        "accept-ranges",
        "age",
        "allow",
        "authorization",
        "cache-control",
        "connection",
        "content-base",
        "content-encoding",
        "content-language",
        "content-length",
        "content-location",
        "content-md5",
        "content-range",
        "content-type",
        "date",
        "etag",
        "expect",
        "expires",
        "from",
        "host",
        "if-match",
        "if-modified-since",
        "if-none-match",
        "if-range",
        "if-unmodified-since",
        "last-modified",
        "location",
        "max-forwards",
        "pragma",
        "proxy-authenticate",
        "proxy-authorization",
        "range",
        "referer",
        "retry-after",
        "server",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "vary",
        "via",
        "warning",
        "www-authenticate",
        "method",
        "get",
        "status",
        "200 OK",
        "version",
        "HTTP/1.1",
        "url",
        "public",
        "set-cookie",
        "keep-alive",
        "origin",
    ];
    const TAIL: &str = "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505\
        203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized\
        403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable\
        Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT\
        chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,\
        text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";
    let mut out = Vec::with_capacity(1423);
    for w in WORDS {
        out.extend_from_slice(&(w.len() as u32).to_be_bytes());
        out.extend_from_slice(w.as_bytes());
    }
    out.extend_from_slice(TAIL.as_bytes());
    out
}

/// One frame from the client, its header block decoded.
#[derive(Debug, PartialEq)]
pub enum Frame {
    SynStream {
        id: u32,
        headers: Vec<(String, String)>,
    },
    Data {
        id: u32,
        fin: bool,
        data: Vec<u8>,
    },
    RstStream {
        id: u32,
    },
    Ping(u32),
    GoAway,
    /// SETTINGS, WINDOW_UPDATE, HEADERS, SYN_REPLY: nothing the forward needs.
    Ignored,
}

/// Reads frames off the bytes the tunnel delivers; the header blocks share one zlib stream
/// for the whole connection.
pub struct Reader {
    buf: Vec<u8>,
    inflate: Decompress,
}

impl Default for Reader {
    fn default() -> Self {
        Reader { buf: Vec::new(), inflate: Decompress::new(true) }
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl Reader {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole frame, `None` until one has arrived.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, String> {
        if self.buf.len() < 8 {
            return Ok(None);
        }
        let len = (u32_at(&self.buf, 4) & 0x00ff_ffff) as usize;
        if self.buf.len() < 8 + len {
            return Ok(None);
        }
        let frame: Vec<u8> = self.buf.drain(..8 + len).collect();
        let (head, body) = frame.split_at(8);
        if head[0] & 0x80 == 0 {
            let id = u32_at(head, 0) & 0x7fff_ffff;
            return Ok(Some(Frame::Data { id, fin: head[4] & FLAG_FIN != 0, data: body.to_vec() }));
        }
        let version = u16::from_be_bytes([head[0] & 0x7f, head[1]]);
        if version != VERSION {
            return Err(format!("SPDY version {version}, not {VERSION}"));
        }
        let short = || format!("a control frame of {len} bytes is too short");
        Ok(Some(match u16::from_be_bytes([head[2], head[3]]) {
            SYN_STREAM => {
                if body.len() < 10 {
                    return Err(short());
                }
                let headers = parse_headers(&self.inflate_block(&body[10..])?)?;
                Frame::SynStream { id: u32_at(body, 0) & 0x7fff_ffff, headers }
            }
            RST_STREAM if body.len() >= 8 => Frame::RstStream { id: u32_at(body, 0) & 0x7fff_ffff },
            PING if body.len() >= 4 => Frame::Ping(u32_at(body, 0)),
            GOAWAY => Frame::GoAway,
            RST_STREAM | PING => return Err(short()),
            _ => Frame::Ignored,
        }))
    }

    /// One header block, inflated where the previous one left the stream; the first asks for
    /// the dictionary.
    fn inflate_block(&mut self, block: &[u8]) -> Result<Vec<u8>, String> {
        let mut out = Vec::with_capacity(256);
        let mut used = 0;
        while used < block.len() {
            if out.capacity() - out.len() < 256 {
                out.reserve(1024);
            }
            let before = self.inflate.total_in();
            let result = self.inflate.decompress_vec(&block[used..], &mut out, FlushDecompress::Sync);
            used += (self.inflate.total_in() - before) as usize;
            match result {
                Ok(Status::StreamEnd) => break,
                Ok(_) => {}
                Err(e) if e.needs_dictionary().is_some() => {
                    self.inflate
                        .set_dictionary(&header_dictionary())
                        .map_err(|e| format!("the SPDY dictionary: {e}"))?;
                }
                Err(e) => return Err(format!("a header block: {e}")),
            }
        }
        Ok(out)
    }
}

/// A header block: a count, then each name and value with its length; a value may hold
/// several, NUL-separated (the first is kept).
fn parse_headers(raw: &[u8]) -> Result<Vec<(String, String)>, String> {
    let bad = || "a header block cut short".to_string();
    let mut at = 0;
    let mut take = |n: usize| -> Result<&[u8], String> {
        let s = raw.get(at..at + n).ok_or_else(bad)?;
        at += n;
        Ok(s)
    };
    let count = u32::from_be_bytes(take(4)?.try_into().map_err(|_| bad())?);
    let mut out = Vec::new();
    for _ in 0..count {
        let n = u32::from_be_bytes(take(4)?.try_into().map_err(|_| bad())?) as usize;
        let name = String::from_utf8_lossy(take(n)?).into_owned();
        let n = u32::from_be_bytes(take(4)?.try_into().map_err(|_| bad())?) as usize;
        let value = String::from_utf8_lossy(take(n)?).split('\0').next().unwrap_or("").to_string();
        out.push((name, value));
    }
    Ok(out)
}

pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).unwrap_or("")
}

fn control(kind: u16, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(8 + payload.len());
    f.extend_from_slice(&(0x8000 | VERSION).to_be_bytes());
    f.extend_from_slice(&kind.to_be_bytes());
    f.extend_from_slice(&((flags as u32) << 24 | payload.len() as u32).to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// Writes the server's frames. Its header blocks are empty, as the kubelet's replies
/// (`SendReply(http.Header{}, false)`), compressed as spdystream's server compresses them:
/// one zlib stream with the dictionary for the connection, each block sync-flushed. The flush
/// matters: Go's inflater hands a block's bytes over only at the empty stored block a sync
/// flush ends with; without it, it reads past the frame and fails the next one.
pub struct Writer {
    deflate: Compress,
}

impl Default for Writer {
    fn default() -> Self {
        let mut deflate = Compress::new(Compression::default(), true);
        deflate.set_dictionary(&header_dictionary()).expect("a zlib backend takes a dictionary");
        Writer { deflate }
    }
}

impl Writer {
    pub fn syn_reply(&mut self, id: u32) -> Vec<u8> {
        let mut payload = id.to_be_bytes().to_vec();
        payload.reserve(64);
        // no headers: the count, 0
        let _ = self.deflate.compress_vec(&[0, 0, 0, 0], &mut payload, FlushCompress::Sync);
        control(SYN_REPLY, 0, &payload)
    }
}

pub fn data(id: u32, fin: bool, bytes: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(8 + bytes.len());
    f.extend_from_slice(&(id & 0x7fff_ffff).to_be_bytes());
    f.extend_from_slice(&((if fin { FLAG_FIN } else { 0 } as u32) << 24 | bytes.len() as u32).to_be_bytes());
    f.extend_from_slice(bytes);
    f
}

pub fn ping(id: u32) -> Vec<u8> {
    control(PING, 0, &id.to_be_bytes())
}

/// The largest DATA frame the server sends (a frame's length field allows 16 MiB; the
/// pod's reads are smaller).
pub const MAX_DATA: usize = 32 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dictionary_is_spdy3s() {
        let d = header_dictionary();
        assert_eq!(d.len(), 1423);
        assert!(d.starts_with(b"\0\0\0\x07options\0\0\0\x04head"));
        assert!(d.windows(10).any(|w| w == b"\0\0\0\x06200 OK"));
        assert!(d.ends_with(b"utf-,*,enq=0."));
    }

    /// What a client (spdystream) sends: header blocks compressed with the dictionary in one
    /// stream, sync-flushed, and a frame's bytes split over writes.
    fn client_block(z: &mut Compress, headers: &[(&str, &str)]) -> Vec<u8> {
        let mut raw = (headers.len() as u32).to_be_bytes().to_vec();
        for (n, v) in headers {
            raw.extend_from_slice(&(n.len() as u32).to_be_bytes());
            raw.extend_from_slice(n.as_bytes());
            raw.extend_from_slice(&(v.len() as u32).to_be_bytes());
            raw.extend_from_slice(v.as_bytes());
        }
        let mut out = Vec::with_capacity(raw.len() + 64);
        z.compress_vec(&raw, &mut out, FlushCompress::Sync).unwrap();
        out
    }

    fn syn_stream(z: &mut Compress, id: u32, headers: &[(&str, &str)]) -> Vec<u8> {
        let mut payload = id.to_be_bytes().to_vec();
        payload.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        payload.extend(client_block(z, headers));
        control(SYN_STREAM, 0, &payload)
    }

    #[test]
    fn frames_read_across_pieces_and_blocks_share_one_stream() {
        let mut z = Compress::new(Compression::default(), true);
        z.set_dictionary(&header_dictionary()).unwrap();
        let mut wire = syn_stream(&mut z, 1, &[("streamtype", "error"), ("port", "8200"), ("requestid", "0")]);
        wire.extend(syn_stream(&mut z, 3, &[("streamtype", "data"), ("port", "8200"), ("requestid", "0")]));
        wire.extend(data(3, true, b"GET / HTTP/1.1\r\n\r\n"));
        wire.extend(control(PING, 0, &7u32.to_be_bytes()));
        let mut r = Reader::default();
        let mut frames = Vec::new();
        // two bytes at a time, as the client's unbuffered framer writes fields
        for piece in wire.chunks(2) {
            r.push(piece);
            while let Some(f) = r.next_frame().unwrap() {
                frames.push(f);
            }
        }
        let h = |t: &str| {
            vec![("streamtype".into(), t.into()), ("port".into(), "8200".into()), ("requestid".into(), "0".into())]
        };
        assert_eq!(
            frames,
            vec![
                Frame::SynStream { id: 1, headers: h("error") },
                Frame::SynStream { id: 3, headers: h("data") },
                Frame::Data { id: 3, fin: true, data: b"GET / HTTP/1.1\r\n\r\n".to_vec() },
                Frame::Ping(7),
            ]
        );
    }

    #[test]
    fn replies_inflate_as_one_stream_each_block_flushed() {
        let mut w = Writer::default();
        let (a, b) = (w.syn_reply(1), w.syn_reply(3));
        assert_eq!(&a[..4], &[0x80, 0x03, 0x00, 0x02]);
        let mut r = Reader::default();
        for (frame, id) in [(a, 1u32), (b, 3)] {
            assert_eq!(u32_at(&frame, 8), id);
            let block = &frame[12..];
            assert!(block.ends_with(&[0, 0, 0xff, 0xff]), "a sync flush ends each block: {block:02x?}");
            assert_eq!(r.inflate_block(block).unwrap(), vec![0, 0, 0, 0], "a block holding no headers");
        }
    }

    #[test]
    fn a_wrong_version_is_an_error_not_a_panic() {
        let mut r = Reader::default();
        r.push(&[0x80, 0x02, 0, 1, 0, 0, 0, 0]);
        assert!(r.next_frame().is_err());
        let mut r = Reader::default();
        r.push(&control(SYN_STREAM, 0, &[0, 0, 0, 1]));
        assert!(r.next_frame().is_err());
    }
}
