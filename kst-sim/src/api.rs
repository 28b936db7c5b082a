//! The Kubernetes REST semantics: discovery, list, watch, get, create, update, patch,
//! delete, the scale and log subresources, access reviews and the proxy paths.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc};

use super::auth::User;
use super::http::{error, not_found, status_value, Reply, Request};
use super::patch;
use super::resources::ResDef;
use super::resources::ResPath;
use super::select::{selectors, FieldSelector, LabelSelector};
use super::store::{Change, EventType, StoreError, Stored};
use super::table;
use super::SimCluster;

pub async fn handle(cluster: Arc<SimCluster>, req: Request) -> Reply {
    let latency = cluster.faults.latency_ms();
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let user = match authenticate(&cluster, &req) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let path = req.path.trim_end_matches('/').to_string();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        ["version"] => Reply::ok(&cluster.version_info()),
        ["healthz"] | ["livez"] | ["readyz"] => Reply::text(StatusCode::OK, "text/plain", "ok"),
        ["api"] => Reply::ok(&cluster.registry.core_versions(&cluster.address())),
        ["apis"] => Reply::ok(&cluster.registry.group_list()),
        ["api", "v1"] => reply_opt(cluster.registry.resource_list("", "v1")),
        ["apis", g] => reply_opt(cluster.registry.group(g)),
        ["apis", g, v] => reply_opt(cluster.registry.resource_list(g, v)),
        ["api", "v1", rest @ ..] => resource(&cluster, &user, &req, "", "v1", rest).await,
        ["apis", g, v, rest @ ..] => resource(&cluster, &user, &req, g, v, rest).await,
        _ => error(StatusCode::NOT_FOUND, format!("the server could not find the requested resource ({path})")),
    }
}

fn reply_opt(v: Option<Value>) -> Reply {
    match v {
        Some(v) => Reply::ok(&v),
        None => error(StatusCode::NOT_FOUND, "the server could not find the requested resource"),
    }
}

fn authenticate(cluster: &SimCluster, req: &Request) -> Result<User, Reply> {
    let unauthorized = || error(StatusCode::UNAUTHORIZED, "Unauthorized");
    let token = req.header("authorization").strip_prefix("Bearer ").map(str::trim).ok_or_else(unauthorized)?;
    if cluster.faults.token_expired() {
        return Err(unauthorized());
    }
    cluster.users.iter().find(|u| u.token == token).cloned().ok_or_else(unauthorized)
}

fn parse_res_path(cluster: &SimCluster, group: &str, version: &str, segs: &[&str]) -> Option<ResPath> {
    let reg = &cluster.registry;
    let (ns, rest) = match segs {
        ["namespaces", ns, plural, rest @ ..] if reg.index(group, version, plural).is_some() && !ns.is_empty() => {
            (Some(ns.to_string()), {
                let mut v = vec![*plural];
                v.extend_from_slice(rest);
                v
            })
        }
        other => (None, other.to_vec()),
    };
    let plural = *rest.first()?;
    let res = reg.index(group, version, plural)?;
    let def = reg.defs[res];
    let name = rest.get(1).map(|s| s.to_string());
    let sub = rest.get(2).map(|s| s.to_string());
    let tail = if rest.len() > 3 { format!("/{}", rest[3..].join("/")) } else { String::new() };
    Some(ResPath { res, def, ns, name, sub, rest: tail })
}

fn verb_of(req: &Request, p: &ResPath) -> &'static str {
    match (&req.method, &p.name) {
        (&Method::GET, None) if req.flag("watch") => "watch",
        (&Method::GET, None) => "list",
        (&Method::GET, Some(_)) => "get",
        (&Method::POST, _) => "create",
        (&Method::PUT, _) => "update",
        (&Method::PATCH, _) => "patch",
        (&Method::DELETE, None) => "deletecollection",
        (&Method::DELETE, Some(_)) => "delete",
        _ => "unknown",
    }
}

fn forbidden(user: &User, verb: &str, p: &ResPath) -> Reply {
    let res = match &p.sub {
        Some(s) => format!("{}/{}", p.def.plural, s),
        None => p.def.plural.to_string(),
    };
    let scope = match &p.ns {
        Some(ns) => format!(" in the namespace \"{ns}\""),
        None => " at the cluster scope".to_string(),
    };
    let what = match &p.name {
        Some(n) => format!("{}.{} \"{n}\"", p.def.plural, p.def.group).replace(". \"", " \""),
        None => p.def.plural.to_string(),
    };
    let msg = format!(
        "{what} is forbidden: User \"{}\" cannot {verb} resource \"{res}\" in API group \"{}\"{scope}",
        user.name, p.def.group
    );
    Reply::json(
        StatusCode::FORBIDDEN,
        &status_value(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &msg,
            Some(json!({"name": p.name, "group": p.def.group, "kind": p.def.plural})),
        ),
    )
}

async fn resource(
    cluster: &Arc<SimCluster>,
    user: &User,
    req: &Request,
    group: &str,
    version: &str,
    segs: &[&str],
) -> Reply {
    // every request is counted by verb and resource, found or not (fault drills budget them)
    let (plural, rest) = match segs {
        ["namespaces", _, plural, rest @ ..] => (*plural, rest),
        [plural, rest @ ..] => (*plural, rest),
        [] => ("", &[][..]),
    };
    let named = !rest.is_empty();
    let verb = match (&req.method, named) {
        _ if rest.get(1) == Some(&"proxy") => "proxy",
        (&Method::GET, false) if req.flag("watch") => "watch",
        (&Method::GET, false) => "list",
        (&Method::GET, true) => "get",
        _ => "write",
    };
    cluster.count_request(verb, plural);
    let Some(p) = parse_res_path(cluster, group, version, segs) else {
        return error(StatusCode::NOT_FOUND, "the server could not find the requested resource");
    };
    let verb = verb_of(req, &p);
    if cluster.faults.is_forbidden(p.def.plural) || !user.allows(verb, p.def.group, p.def.plural, p.sub.as_deref()) {
        return forbidden(user, verb, &p);
    }
    if p.def.computed {
        return super::metrics_server::serve(cluster, req, &p);
    }
    if p.def.create_only {
        return if req.method == Method::POST && p.def.plural == "selfsubjectaccessreviews" {
            access_review(cluster, user, req)
        } else if req.method == Method::POST && p.def.plural == "selfsubjectrulesreviews" {
            rules_review(cluster, user, req)
        } else {
            error(StatusCode::METHOD_NOT_ALLOWED, "the server does not allow this method on the requested resource")
        };
    }
    match (p.sub.as_deref(), &req.method) {
        (None, &Method::GET) if p.name.is_none() && req.flag("watch") => watch(cluster, req, &p),
        (None, &Method::GET) if p.name.is_none() => list(cluster, req, &p),
        (None, &Method::GET) => get(cluster, req, &p),
        (None, &Method::POST) if p.name.is_none() => create(cluster, req, &p),
        (None, &Method::PUT) => update(cluster, req, &p),
        (None, &Method::PATCH) => patch_object(cluster, req, &p),
        (None, &Method::DELETE) if p.name.is_some() => delete(cluster, &p),
        (Some("status"), &Method::GET) => get(cluster, req, &p),
        (Some("status"), &Method::PATCH) => patch_object(cluster, req, &p),
        (Some("scale"), _) if p.def.subresources.contains(&"scale") => scale(cluster, req, &p),
        // GET: a WebSocket; POST: kubectl's SPDY retry, judged alike, then refused
        (Some("exec"), &Method::GET | &Method::POST) if p.def.plural == "pods" => super::exec::serve(cluster, req, &p),
        (Some("portforward"), &Method::GET | &Method::POST) if p.def.plural == "pods" => {
            super::portforward::serve(cluster, req, &p)
        }
        (Some("log"), &Method::GET) if p.def.plural == "pods" => super::logs::serve(cluster, req, &p).await,
        (Some("proxy"), _) if p.def.subresources.contains(&"proxy") => super::endpoints::proxy(cluster, req, &p).await,
        _ => error(StatusCode::METHOD_NOT_ALLOWED, "the server does not allow this method on the requested resource"),
    }
}

fn store_error(e: StoreError, p: &ResPath, name: &str) -> Reply {
    match e {
        StoreError::NotFound => not_found(p.def.plural, p.def.group, name),
        StoreError::AlreadyExists => Reply::json(
            StatusCode::CONFLICT,
            &status_value(
                StatusCode::CONFLICT,
                "AlreadyExists",
                &format!("{} \"{name}\" already exists", p.def.plural),
                Some(json!({"name": name, "group": p.def.group, "kind": p.def.plural})),
            ),
        ),
        StoreError::Conflict => Reply::json(
            StatusCode::CONFLICT,
            &status_value(
                StatusCode::CONFLICT,
                "Conflict",
                &format!(
                    "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                    p.def.plural
                ),
                None,
            ),
        ),
        StoreError::Invalid(m) => Reply::json(
            StatusCode::UNPROCESSABLE_ENTITY,
            &status_value(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", &format!("{} \"{name}\" is invalid: {m}", p.def.kind), None),
        ),
    }
}

fn encode_continue(rv: u64, ns: &str, name: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json!({"rv": rv, "ns": ns, "name": name}).to_string())
}

fn decode_continue(tok: &str) -> Option<(u64, String, String)> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(tok).ok()?;
    let v: Value = serde_json::from_slice(&raw).ok()?;
    Some((v["rv"].as_u64()?, v["ns"].as_str()?.to_string(), v["name"].as_str()?.to_string()))
}

fn list(cluster: &SimCluster, req: &Request, p: &ResPath) -> Reply {
    let (ls, fs) = match selectors(req) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (items, rv) = {
        let store = cluster.store.read().expect("store lock");
        (store.list(p.res, p.ns.as_deref()), store.resource_version())
    };
    let mut items: Vec<Arc<Stored>> = items.into_iter().filter(|o| o.selected(&ls, &fs)).collect();
    if let Some(tok) = req.param("continue").filter(|t| !t.is_empty()) {
        let Some((_, ns, name)) = decode_continue(tok) else {
            return error(StatusCode::BAD_REQUEST, "continue key is not valid");
        };
        items.retain(|o| (o.namespace.as_str(), o.name.as_str()) > (ns.as_str(), name.as_str()));
    }
    let limit = req.param("limit").and_then(|l| l.parse::<usize>().ok()).filter(|l| *l > 0);
    let mut cont = None;
    let mut remaining = None;
    if let Some(limit) = limit {
        if items.len() > limit {
            remaining = Some(items.len() - limit);
            items.truncate(limit);
            let last = items.last().expect("non-empty");
            cont = Some(encode_continue(rv, &last.namespace, &last.name));
        }
    }
    if req.wants_table() {
        let values: Vec<Value> = items.iter().map(|o| o.value()).collect();
        return Reply::ok(&table::table(&p.def, &values, rv, cont));
    }
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if let Some(c) = cont {
        meta["continue"] = json!(c);
        meta["remainingItemCount"] = json!(remaining);
    }
    let head = json!({"kind": p.def.list_kind(), "apiVersion": p.def.api_version(), "metadata": meta});
    let mut body = serde_json::to_vec(&head).unwrap_or_default();
    body.pop(); // reopen the object to append items without re-encoding them
    body.extend_from_slice(b",\"items\":[");
    for (i, o) in items.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&o.bytes);
    }
    body.extend_from_slice(b"]}");
    Reply::raw_json(StatusCode::OK, Bytes::from(body))
}

fn get(cluster: &SimCluster, req: &Request, p: &ResPath) -> Reply {
    let name = p.name.as_deref().unwrap_or_default();
    let store = cluster.store.read().expect("store lock");
    match store.get(p.res, p.ns.as_deref().unwrap_or(""), name) {
        Some(o) if req.wants_table() => Reply::ok(&table::table(&p.def, &[o.value()], o.rv, None)),
        Some(o) => Reply::raw_json(StatusCode::OK, o.bytes.clone()),
        None => not_found(p.def.plural, p.def.group, name),
    }
}

fn body_json(req: &Request) -> Result<Value, Reply> {
    serde_json::from_slice(&req.body).map_err(|e| error(StatusCode::BAD_REQUEST, format!("the body is not JSON: {e}")))
}

/// What a CRD's schema refuses at admission (only what the simulator models: a
/// BindingPolicy's clusterSelectors operators).
fn admit(p: &ResPath, obj: &Value) -> Result<(), StoreError> {
    if p.def.kind == "BindingPolicy" {
        super::kubestellar::admit_binding_policy(obj).map_err(StoreError::Invalid)?;
    }
    Ok(())
}

fn create(cluster: &SimCluster, req: &Request, p: &ResPath) -> Reply {
    let mut obj = match body_json(req) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if !obj.is_object() {
        return error(StatusCode::BAD_REQUEST, "the body must be an object");
    }
    if let Some(ns) = &p.ns {
        obj["metadata"]["namespace"] = json!(ns);
    }
    obj["apiVersion"] = json!(p.def.api_version());
    obj["kind"] = json!(p.def.kind);
    if obj["metadata"]["name"].as_str().unwrap_or("").is_empty() {
        if let Some(g) = obj["metadata"]["generateName"].as_str() {
            let n = cluster.next_suffix();
            obj["metadata"]["name"] = json!(format!("{g}{n}"));
        }
    }
    let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
    if let Err(e) = admit(p, &obj) {
        return store_error(e, p, &name);
    }
    let mut store = cluster.store.write().expect("store lock");
    match store.create(p.res, obj) {
        Ok(o) => Reply::raw_json(StatusCode::CREATED, o.bytes.clone()),
        Err(e) => store_error(e, p, &name),
    }
}

fn update(cluster: &SimCluster, req: &Request, p: &ResPath) -> Reply {
    let mut obj = match body_json(req) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let name = p.name.clone().unwrap_or_default();
    if obj["metadata"]["name"].as_str() != Some(name.as_str()) {
        return error(StatusCode::BAD_REQUEST, "the name of the object does not match the name on the URL");
    }
    if let Some(ns) = &p.ns {
        obj["metadata"]["namespace"] = json!(ns);
    }
    let expect = obj["metadata"]["resourceVersion"].as_str().and_then(|v| v.parse().ok());
    if let Err(e) = admit(p, &obj) {
        return store_error(e, p, &name);
    }
    let mut store = cluster.store.write().expect("store lock");
    match store.update(p.res, obj, expect) {
        Ok(o) => {
            let bytes = o.bytes.clone();
            super::scenario::reconcile(cluster, &mut store, &p.def, p.ns.as_deref().unwrap_or(""), &name);
            Reply::raw_json(StatusCode::OK, bytes)
        }
        Err(e) => store_error(e, p, &name),
    }
}

fn apply_patch(req: &Request, target: &mut Value) -> Result<(), Reply> {
    let ct = req.header("content-type").split(';').next().unwrap_or("").trim().to_string();
    let body = body_json(req)?;
    match ct.as_str() {
        "application/merge-patch+json" => patch::merge_patch(target, &body),
        "application/strategic-merge-patch+json" => patch::strategic_merge_patch(target, &body),
        "application/json-patch+json" => {
            patch::json_patch(target, &body).map_err(|e| error(StatusCode::UNPROCESSABLE_ENTITY, e))?
        }
        other => {
            return Err(error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got {other:?})"),
            ))
        }
    }
    Ok(())
}

fn patch_object(cluster: &SimCluster, req: &Request, p: &ResPath) -> Reply {
    let name = p.name.clone().unwrap_or_default();
    let ns = p.ns.clone().unwrap_or_default();
    let mut store = cluster.store.write().expect("store lock");
    let Some(old) = store.get(p.res, &ns, &name) else {
        return not_found(p.def.plural, p.def.group, &name);
    };
    let mut v = old.value();
    if let Err(r) = apply_patch(req, &mut v) {
        return r;
    }
    // identity is not patchable
    v["metadata"]["name"] = json!(name);
    if !ns.is_empty() {
        v["metadata"]["namespace"] = json!(ns);
    }
    if let Err(e) = admit(p, &v) {
        return store_error(e, p, &name);
    }
    match store.update(p.res, v, None) {
        Ok(o) => {
            let bytes = o.bytes.clone();
            super::scenario::reconcile(cluster, &mut store, &p.def, &ns, &name);
            Reply::raw_json(StatusCode::OK, bytes)
        }
        Err(e) => store_error(e, p, &name),
    }
}

fn delete(cluster: &SimCluster, p: &ResPath) -> Reply {
    let name = p.name.clone().unwrap_or_default();
    let ns = p.ns.clone().unwrap_or_default();
    let mut store = cluster.store.write().expect("store lock");
    match store.delete(p.res, &ns, &name) {
        Ok(o) => {
            let bytes = o.bytes.clone();
            // a deleted pod of a workload is replaced, as its ReplicaSet or StatefulSet would
            if p.def.kind == "Pod" {
                cluster.release(&o.node_name, super::scenario::pod_gpus(&o.value()["spec"]));
                cluster.dynamics.lock().expect("dynamics").engines.remove(&name);
                if let Some(owner) = o.labels.get("app.kubernetes.io/name").cloned() {
                    for def in [super::resources::DEPLOYMENTS, super::resources::STATEFULSETS] {
                        let exists =
                            cluster.registry.index_of(&def).is_some_and(|i| store.get(i, &ns, &owner).is_some());
                        if exists {
                            super::scenario::reconcile(cluster, &mut store, &def, &ns, &owner);
                        }
                    }
                }
            }
            Reply::raw_json(StatusCode::OK, bytes)
        }
        Err(e) => store_error(e, p, &name),
    }
}

fn scale_of(o: &Value) -> Value {
    let selector = o["spec"]["selector"]["matchLabels"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or(""))).collect::<Vec<_>>().join(","))
        .unwrap_or_default();
    json!({
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": o["metadata"]["name"], "namespace": o["metadata"]["namespace"],
            "uid": o["metadata"]["uid"], "resourceVersion": o["metadata"]["resourceVersion"],
            "creationTimestamp": o["metadata"]["creationTimestamp"],
        },
        "spec": {"replicas": o["spec"]["replicas"].as_i64().unwrap_or(1)},
        "status": {"replicas": o["status"]["replicas"].as_i64().unwrap_or(0), "selector": selector},
    })
}

fn scale(cluster: &SimCluster, req: &Request, p: &ResPath) -> Reply {
    let name = p.name.clone().unwrap_or_default();
    let ns = p.ns.clone().unwrap_or_default();
    let mut store = cluster.store.write().expect("store lock");
    let Some(old) = store.get(p.res, &ns, &name) else {
        return not_found(p.def.plural, p.def.group, &name);
    };
    let obj = old.value();
    let mut sc = scale_of(&obj);
    let replicas = match req.method {
        Method::GET => return Reply::ok(&sc),
        Method::PATCH => {
            if let Err(r) = apply_patch(req, &mut sc) {
                return r;
            }
            sc["spec"]["replicas"].as_i64()
        }
        Method::PUT => match body_json(req) {
            Ok(b) => {
                if let Some(want) = b["metadata"]["resourceVersion"].as_str().and_then(|s| s.parse::<u64>().ok()) {
                    if want != old.rv {
                        return store_error(StoreError::Conflict, p, &name);
                    }
                }
                b["spec"]["replicas"].as_i64()
            }
            Err(r) => return r,
        },
        _ => {
            return error(
                StatusCode::METHOD_NOT_ALLOWED,
                "the server does not allow this method on the requested resource",
            )
        }
    };
    let Some(replicas) = replicas.filter(|r| *r >= 0) else {
        return Reply::json(
            StatusCode::UNPROCESSABLE_ENTITY,
            &status_value(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", &format!("Scale.autoscaling \"{name}\" is invalid: spec.replicas: Invalid value: must be greater than or equal to 0"), None),
        );
    };
    let updated = store.modify(p.res, &ns, &name, |o| o["spec"]["replicas"] = json!(replicas));
    match updated {
        Ok(_) => {
            super::scenario::reconcile(cluster, &mut store, &p.def, &ns, &name);
            let o = store.get(p.res, &ns, &name).expect("just written").value();
            Reply::ok(&scale_of(&o))
        }
        Err(e) => store_error(e, p, &name),
    }
}

fn access_review(cluster: &SimCluster, user: &User, req: &Request) -> Reply {
    let body = if req.header("content-type").starts_with("application/vnd.kubernetes.protobuf") {
        match super::protobuf::ssar_to_json(&req.body) {
            Ok(b) => b,
            Err(e) => return error(StatusCode::BAD_REQUEST, e),
        }
    } else {
        match body_json(req) {
            Ok(b) => b,
            Err(r) => return r,
        }
    };
    let ra = &body["spec"]["resourceAttributes"];
    let verb = ra["verb"].as_str().unwrap_or("");
    let group = ra["group"].as_str().unwrap_or("");
    let resource = ra["resource"].as_str().unwrap_or("");
    let sub = ra["subresource"].as_str().filter(|s| !s.is_empty());
    // the forbidden fault is the cluster's RBAC too: a review says what a request would meet
    let allowed = !verb.is_empty() && user.allows(verb, group, resource, sub) && !cluster.faults.is_forbidden(resource);
    let mut out = body.clone();
    out["apiVersion"] = json!("authorization.k8s.io/v1");
    out["kind"] = json!("SelfSubjectAccessReview");
    out["metadata"] = json!({"creationTimestamp": null});
    out["status"] = if allowed {
        json!({"allowed": true, "reason": format!("RBAC: allowed by ClusterRoleBinding for User \"{}\"", user.name)})
    } else {
        json!({"allowed": false, "denied": false, "reason": ""})
    };
    Reply::json(StatusCode::CREATED, &out)
}

/// A SelfSubjectRulesReview: the user's rules as RBAC would list them for the namespace
/// (docs/upstream/kubernetes-access-reviews.md). A forbidden fault is the cluster's RBAC too:
/// a wildcard rule is spelled out without the resources it takes away (RBAC cannot say "all
/// but"). RBAC evaluates rules completely, so `incomplete` is false.
fn rules_review(cluster: &SimCluster, user: &User, req: &Request) -> Reply {
    let body = match body_json(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let taken = cluster.faults.forbidden_now();
    // every resource and subresource the cluster serves, for a wildcard spelled out
    let every: Vec<String> = cluster
        .registry
        .defs
        .iter()
        .filter(|d| !taken.contains(d.plural))
        .flat_map(|d| {
            std::iter::once(d.plural.to_string()).chain(d.subresources.iter().map(|s| format!("{}/{s}", d.plural)))
        })
        .collect();
    let rules: Vec<serde_json::Value> = user
        .rules
        .iter()
        .map(|r| {
            let plural = |x: &str| x.split('/').next().unwrap_or_default().to_string();
            let resources: Vec<String> = match (r.resources.contains(&"*"), taken.is_empty()) {
                (true, true) => vec!["*".into()],
                (true, false) => every.clone(),
                (false, _) => {
                    r.resources.iter().filter(|x| !taken.contains(&plural(x))).map(|x| x.to_string()).collect()
                }
            };
            json!({"verbs": r.verbs, "apiGroups": r.groups, "resources": resources})
        })
        .collect();
    let mut out = body.clone();
    out["apiVersion"] = json!("authorization.k8s.io/v1");
    out["kind"] = json!("SelfSubjectRulesReview");
    out["metadata"] = json!({"creationTimestamp": null});
    out["status"] = json!({
        "resourceRules": rules,
        "nonResourceRules": [{"verbs": ["get"], "nonResourceURLs": ["/version", "/healthz", "/api", "/apis"]}],
        "incomplete": false,
    });
    Reply::json(StatusCode::CREATED, &out)
}

/// One watch's filter: which resource, namespace and selectors it asked for.
struct WatchFilter {
    res: usize,
    ns: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl WatchFilter {
    fn wants(&self, c: &Change) -> bool {
        c.res == self.res
            && self.ns.as_ref().is_none_or(|ns| *ns == c.obj.namespace)
            && c.obj.selected(&self.labels, &self.fields)
    }
}

fn gone(rv: &str) -> Bytes {
    let v = json!({"type": "ERROR", "object": status_value(StatusCode::GONE, "Expired", &format!("too old resource version: {rv}"), None)});
    line(&v)
}

fn line(v: &Value) -> Bytes {
    let mut b = serde_json::to_vec(v).unwrap_or_default();
    b.push(b'\n');
    Bytes::from(b)
}

fn event_line(def: &ResDef, kind: EventType, obj: &Stored, as_table: bool) -> Bytes {
    if as_table {
        let t = table::table(def, &[obj.value()], obj.rv, None);
        return line(&json!({"type": kind.as_str(), "object": t}));
    }
    let mut b = Vec::with_capacity(obj.bytes.len() + 32);
    b.extend_from_slice(b"{\"type\":\"");
    b.extend_from_slice(kind.as_str().as_bytes());
    b.extend_from_slice(b"\",\"object\":");
    b.extend_from_slice(&obj.bytes);
    b.extend_from_slice(b"}\n");
    Bytes::from(b)
}

fn bookmark(def: &ResDef, rv: u64, initial_end: bool) -> Bytes {
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if initial_end {
        meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    line(&json!({"type": "BOOKMARK", "object": {"kind": def.kind, "apiVersion": def.api_version(), "metadata": meta}}))
}

/// Counts open watches for the tests that check views close theirs.
struct WatchGuard(Arc<SimCluster>);
impl Drop for WatchGuard {
    fn drop(&mut self) {
        self.0.open_watches.fetch_sub(1, Ordering::Relaxed);
    }
}

fn watch(cluster: &Arc<SimCluster>, req: &Request, p: &ResPath) -> Reply {
    let (labels, fields) = match selectors(req) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let filter = WatchFilter { res: p.res, ns: p.ns.clone(), labels, fields };
    let as_table = req.wants_table();
    let bookmarks = req.flag("allowWatchBookmarks");
    let send_initial = req.flag("sendInitialEvents");
    let timeout = req
        .param("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(1800));
    let rv_param = req.param("resourceVersion").unwrap_or("").to_string();
    let def = p.def;
    let (tx, rx) = mpsc::channel::<Bytes>(64);

    // Everything up to `start_rv` is decided under the lock; later changes come from the
    // broadcast, subscribed under the same lock so none fall between the two.
    let (initial, sub, start_rv) = {
        let store = cluster.store.read().expect("store lock");
        let sub = store.subscribe();
        let now = store.resource_version();
        let mut initial: Vec<Bytes> = Vec::new();
        let from: Option<u64> = rv_param.parse().ok().filter(|v| *v != 0);
        match from {
            Some(_) if cluster.faults.gone_storm() => initial.push(gone(&rv_param)),
            Some(rv) if !send_initial => match store.history_since(rv) {
                None => initial.push(gone(&rv_param)),
                Some(events) => {
                    for (_, c) in events.iter().filter(|(_, c)| filter.wants(c)) {
                        initial.push(event_line(&def, c.kind, &c.obj, as_table));
                    }
                }
            },
            _ => {
                for o in store.list(p.res, p.ns.as_deref()) {
                    if o.selected(&filter.labels, &filter.fields) {
                        initial.push(event_line(&def, EventType::Added, &o, as_table));
                    }
                }
                if send_initial {
                    initial.push(bookmark(&def, now, true));
                }
            }
        }
        (initial, sub, now)
    };
    let ends_now = initial.first().is_some_and(|b| b.starts_with(b"{\"type\":\"ERROR\""));
    cluster.open_watches.fetch_add(1, Ordering::Relaxed);
    let guard = WatchGuard(cluster.clone());
    let cluster = cluster.clone();
    tokio::spawn(async move {
        let _guard = guard;
        for b in initial {
            if tx.send(b).await.is_err() {
                return;
            }
        }
        if ends_now {
            return;
        }
        pump(cluster, def, filter, sub, start_rv, tx, as_table, bookmarks, timeout).await;
    });
    Reply::Stream {
        status: StatusCode::OK,
        content_type: "application/json",
        body: Box::pin(futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (Ok(b), rx)) })),
    }
}

#[allow(clippy::too_many_arguments)]
async fn pump(
    cluster: Arc<SimCluster>,
    def: ResDef,
    filter: WatchFilter,
    mut sub: broadcast::Receiver<(u64, Change)>,
    start_rv: u64,
    tx: mpsc::Sender<Bytes>,
    as_table: bool,
    bookmarks: bool,
    timeout: Duration,
) {
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut tick = tokio::time::interval(cluster.bookmark_interval);
    tick.tick().await;
    // no end of its own when the server goes unreachable: the connection is dropped under it
    // (server.rs), as a dead API server's is, so the client sees its watch fail, not end
    let mut epoch = cluster.faults.watch_epoch();
    let mut last_rv = start_rv;
    loop {
        tokio::select! {
            _ = &mut deadline => return,
            _ = epoch.changed() => return,
            _ = tx.closed() => return,
            _ = tick.tick(), if bookmarks => {
                let rv = cluster.store.read().expect("store lock").resource_version();
                if tx.send(bookmark(&def, rv.max(last_rv), false)).await.is_err() { return }
            }
            ev = sub.recv() => match ev {
                Ok((rv, c)) => {
                    if rv <= start_rv || !filter.wants(&c) { continue }
                    last_rv = rv;
                    if tx.send(event_line(&def, c.kind, &c.obj, as_table)).await.is_err() { return }
                }
                // A watcher that fell too far behind is told to relist, as etcd compaction does.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let _ = tx.send(gone(&last_rv.to_string())).await;
                    return;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}
