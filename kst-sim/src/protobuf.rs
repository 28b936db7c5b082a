//! Just enough of the Kubernetes protobuf encoding to read the requests newer kubectl
//! sends that way (`Content-Type: application/vnd.kubernetes.protobuf`): the `k8s\0`
//! envelope (runtime.Unknown) and a SelfSubjectAccessReview. Replies stay JSON, which
//! those clients accept too.

use serde_json::{json, Value};

const MAGIC: &[u8] = b"k8s\x00";

/// (field number, bytes) for length-delimited fields; varints are skipped.
fn fields(mut b: &[u8]) -> Result<Vec<(u64, &[u8])>, String> {
    fn varint(b: &mut &[u8]) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = b.split_first().ok_or("truncated varint")?;
            *b = rest;
            v |= ((byte & 0x7f) as u64) << shift;
            if byte & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("varint too long".into())
    }
    let mut out = Vec::new();
    while !b.is_empty() {
        let key = varint(&mut b)?;
        match key & 7 {
            0 => {
                varint(&mut b)?;
            }
            1 => b = b.get(8..).ok_or("truncated fixed64")?,
            5 => b = b.get(4..).ok_or("truncated fixed32")?,
            2 => {
                let len = varint(&mut b)? as usize;
                let (v, rest) = (b.get(..len).ok_or("truncated field")?, &b[len..]);
                out.push((key >> 3, v));
                b = rest;
            }
            w => return Err(format!("unsupported wire type {w}")),
        }
    }
    Ok(out)
}

fn field<'a>(fs: &[(u64, &'a [u8])], n: u64) -> Option<&'a [u8]> {
    fs.iter().find(|(k, _)| *k == n).map(|(_, v)| *v)
}

fn string(fs: &[(u64, &[u8])], n: u64) -> String {
    field(fs, n).map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default()
}

/// The object inside the envelope, with its TypeMeta.
pub fn unwrap(body: &[u8]) -> Result<(String, String, &[u8]), String> {
    let rest = body.strip_prefix(MAGIC).ok_or("not a Kubernetes protobuf message")?;
    let fs = fields(rest)?;
    let tm = fields(field(&fs, 1).unwrap_or_default())?;
    Ok((string(&tm, 1), string(&tm, 2), field(&fs, 2).unwrap_or_default()))
}

/// A SelfSubjectAccessReview, as the JSON the rest of the simulator reads.
pub fn ssar_to_json(body: &[u8]) -> Result<Value, String> {
    let (_, kind, raw) = unwrap(body)?;
    if kind != "SelfSubjectAccessReview" {
        return Err(format!("protobuf bodies are read only for SelfSubjectAccessReview, not {kind}"));
    }
    let obj = fields(raw)?;
    let spec = fields(field(&obj, 2).unwrap_or_default())?;
    let mut out = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": {}});
    if let Some(ra) = field(&spec, 1) {
        let ra = fields(ra)?;
        out["spec"]["resourceAttributes"] = json!({
            "namespace": string(&ra, 1), "verb": string(&ra, 2), "group": string(&ra, 3), "version": string(&ra, 4),
            "resource": string(&ra, 5), "subresource": string(&ra, 6), "name": string(&ra, 7),
        });
    }
    if let Some(nra) = field(&spec, 2) {
        let nra = fields(nra)?;
        out["spec"]["nonResourceAttributes"] = json!({"path": string(&nra, 1), "verb": string(&nra, 2)});
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ld(n: u64, v: &[u8]) -> Vec<u8> {
        let mut o = vec![((n << 3) | 2) as u8, v.len() as u8];
        o.extend_from_slice(v);
        o
    }

    #[test]
    fn decodes_an_access_review_envelope() {
        let ra = [ld(1, b"team1"), ld(2, b"patch"), ld(3, b"apps"), ld(5, b"deployments"), ld(6, b"scale")].concat();
        let spec = ld(1, &ra);
        let obj = [ld(1, b""), ld(2, &spec)].concat();
        let tm = [ld(1, b"authorization.k8s.io/v1"), ld(2, b"SelfSubjectAccessReview")].concat();
        let body = [MAGIC.to_vec(), ld(1, &tm), ld(2, &obj), ld(4, b"application/vnd.kubernetes.protobuf")].concat();
        let v = ssar_to_json(&body).unwrap();
        assert_eq!(v["spec"]["resourceAttributes"]["verb"], "patch");
        assert_eq!(v["spec"]["resourceAttributes"]["subresource"], "scale");
        assert_eq!(v["spec"]["resourceAttributes"]["namespace"], "team1");
        assert!(ssar_to_json(b"{}").is_err());
        assert!(ssar_to_json(&[MAGIC, &[0x0a, 0x50]].concat()).is_err(), "truncated input is an error, not a panic");
    }
}
