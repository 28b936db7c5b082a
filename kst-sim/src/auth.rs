//! Who is calling (bearer tokens) and what they may do (RBAC-like rules), so that 401, 403
//! and SelfSubjectAccessReview answers come from the same facts.

#[derive(Debug, Clone)]
pub struct Rule {
    pub verbs: Vec<&'static str>,
    pub groups: Vec<&'static str>,
    /// Plural names, `plural/subresource`, or `*`.
    pub resources: Vec<&'static str>,
}

#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub token: String,
    pub rules: Vec<Rule>,
}

impl User {
    pub fn admin(cluster: &str, secret: u64) -> User {
        User {
            name: "kubernetes-admin".into(),
            token: format!("sim-{cluster}-admin-{secret:016x}"),
            rules: vec![Rule { verbs: vec!["*"], groups: vec!["*"], resources: vec!["*"] }],
        }
    }

    /// Reads everything, writes nothing: the context a wall screen or a cautious SRE uses.
    pub fn viewer(cluster: &str, secret: u64) -> User {
        User {
            name: "fleet-viewer".into(),
            token: format!("sim-{cluster}-viewer-{:016x}", secret.rotate_left(17)),
            rules: vec![
                Rule { verbs: vec!["get", "list", "watch"], groups: vec!["*"], resources: vec!["*"] },
                Rule {
                    verbs: vec!["create"],
                    groups: vec!["authorization.k8s.io"],
                    // as Kubernetes' system:basic-user grants every authenticated user
                    resources: vec!["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                },
            ],
        }
    }

    pub fn allows(&self, verb: &str, group: &str, resource: &str, sub: Option<&str>) -> bool {
        let full = match sub {
            Some(s) => format!("{resource}/{s}"),
            None => resource.to_string(),
        };
        self.rules.iter().any(|r| {
            (r.verbs.contains(&"*") || r.verbs.contains(&verb))
                && (r.groups.contains(&"*") || r.groups.contains(&group))
                && (r.resources.contains(&"*") || r.resources.iter().any(|x| *x == full))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewer_reads_but_cannot_scale() {
        let v = User::viewer("c", 1);
        assert!(v.allows("list", "", "pods", None));
        assert!(v.allows("get", "apps", "deployments", Some("scale")));
        assert!(!v.allows("patch", "apps", "deployments", Some("scale")));
        assert!(v.allows("create", "authorization.k8s.io", "selfsubjectaccessreviews", None));
        let a = User::admin("c", 1);
        assert!(a.allows("patch", "apps", "deployments", Some("scale")));
        assert_ne!(a.token, v.token);
    }
}
