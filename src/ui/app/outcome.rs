//! What a component's key did (its `Outcome`), applied to the App: views opened and closed,
//! a cluster focused or dialed, a write asked for, a message, a jump to a problem's source.

use super::App;
use crate::ui::component::{Outcome, Write};

impl App {
    /// What a component's key did, applied.
    pub(in crate::ui) fn apply(&mut self, o: Outcome, had_flash: bool) -> bool {
        match o {
            Outcome::Ignored | Outcome::Handled => had_flash,
            Outcome::Redraw => true,
            Outcome::Open(spec, crumb) => {
                self.open_view(spec, crumb);
                true
            }
            Outcome::Push(v) => {
                self.views_by_command &= !self.views.is_empty();
                self.views.push(v);
                true
            }
            Outcome::Close => {
                self.close_view();
                true
            }
            Outcome::Focus(i) => {
                self.focus = Some(i);
                self.dial_context(i);
                true
            }
            Outcome::Dial { name, hub } => {
                self.flash = Some(match &self.dialer {
                    None => format!(
                        "{name} is known through the hub {hub} only: no context to dial, so no pods, logs or \
                         YAML ([fleet] cluster_proxy dials it through the hub)"
                    ),
                    Some(d) => match d.dial(&mut self.fleet, &name) {
                        Ok((i, target)) => {
                            self.writes.reach(i, target.clone(), d.via());
                            self.feeds.add_target(i, target);
                            self.focus = Some(i);
                            format!("{name}: dialed through the {}", d.via())
                        }
                        Err(e) => format!("{name}: cannot dial it: {e}"),
                    },
                });
                true
            }
            Outcome::Write(w) => {
                let (context, via) = match &w {
                    Write::Toggle { target, .. } => {
                        let c = &self.fleet.clusters[target.cluster];
                        (c.context.clone(), c.via.clone())
                    }
                    Write::Shell(crate::actions::ShellTarget { cluster, .. })
                    | Write::Forward(crate::actions::ForwardTarget { cluster, .. }) => {
                        let c = &self.fleet.clusters[*cluster];
                        (c.context.clone(), c.via.clone())
                    }
                    Write::Silence(_) | Write::Move { .. } => (String::new(), None),
                };
                // through a hub's proxy too: its RBAC check asks the managed cluster, as the proxy's identity
                self.flash = self.writes.request(w, self.mode, context, via);
                true
            }
            Outcome::Apply(f) => {
                self.flash = Some(f(&mut self.fleet));
                true
            }
            Outcome::Flash(m) => {
                self.flash = Some(m);
                true
            }
            Outcome::StopForward(id) => {
                self.flash = self.writes.stop_forward(id);
                true
            }
            Outcome::Goto { pane, context, find, filter } => {
                if let Some(text) = filter {
                    self.filter.set(text);
                }
                // the row must be visible: a focus on another cluster is lifted
                if self.focus.is_some_and(|f| self.fleet.clusters[f].context != context) {
                    self.focus = None;
                }
                self.show(pane);
                if !self.panes[self.tab].reveal(&context, &find) {
                    self.flash = Some(format!("{find}: look for it in {}", self.panes[self.tab].title()));
                }
                true
            }
        }
    }
}
