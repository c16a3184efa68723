//! Install and upgrade.

use crate::config::{self, InitArg};
use crate::manager;
use crate::runtime::Runtime;

/// Applies the init/upgrade argument and starts the manager. On a fresh install the argument
/// overrides the defaults; on upgrade it overrides the stored configuration. An error must abort
/// the install or upgrade, so the caller traps with it.
pub fn setup(rt: &impl Runtime, arg: Result<Option<InitArg>, String>) -> Result<(), String> {
    let arg = arg?.unwrap_or_default();
    let config = config::apply(arg).map_err(|e| format!("invalid init argument: {e}"))?;
    manager::start(rt, &config);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::FakeRuntime;

    #[test]
    fn setup_applies_the_argument_and_starts_the_manager() {
        let rt = FakeRuntime::new();
        let arg = InitArg {
            cycles_history_len: Some(3),
            ..InitArg::default()
        };
        assert_eq!(setup(&rt, Ok(Some(arg))), Ok(()));
        assert_eq!(config::get().cycles_history_len, 3);
        assert_eq!(manager::queue_len(), 1);
        assert_eq!(rt.armed_timer.get(), Some(rt.time()));
        // An upgrade without argument keeps the stored configuration.
        assert_eq!(setup(&rt, Ok(None)), Ok(()));
        assert_eq!(config::get().cycles_history_len, 3);
        assert_eq!(manager::queue_len(), 1);
    }

    #[test]
    fn setup_rejects_bad_arguments_without_starting() {
        let rt = FakeRuntime::new();
        let arg = InitArg {
            cycles_sample_interval_seconds: Some(1),
            ..InitArg::default()
        };
        let err = setup(&rt, Ok(Some(arg))).unwrap_err();
        assert!(err.contains("cycles_sample_interval_seconds"), "{err}");
        assert_eq!(setup(&rt, Err("garbage".into())), Err("garbage".into()));
        assert_eq!(manager::queue_len(), 0);
        assert_eq!(rt.armed_timer.get(), None);
    }
}
