//! `# syntax=` and `BUILDKIT_SYNTAX`: BuildKit hands the build to the
//! frontend image they name. strata has the docker/dockerfile frontend built
//! in and runs no frontend image, so it accepts that one (any tag or digest:
//! what strata implements is its current version) and refuses the others.

use anyhow::bail;
use strata_build::BuildOptions;
use strata_dockerfile::Frontend;

use crate::report::{Rendered, Severity, colour_stderr, render};

const ONLY_BUILT_IN: &str = "strata implements the docker/dockerfile frontend built in and cannot run another frontend image";

/// Fails when the build asks for a frontend image other than docker/dockerfile.
/// The `BUILDKIT_SYNTAX` build argument wins over the directive, as in BuildKit.
pub(crate) fn check(options: &BuildOptions) -> anyhow::Result<()> {
    if let Some(value) = options.frontend.build_args.get("BUILDKIT_SYNTAX") {
        if let Frontend::Other(image) = Frontend::of(value) {
            bail!("--build-arg BUILDKIT_SYNTAX={value}: {image}: {ONLY_BUILT_IN}");
        }
        return Ok(());
    }
    // A Dockerfile that does not parse is reported by whatever reads it next.
    let Ok(dockerfile) = strata_dockerfile::parse(options.dockerfile.clone()) else {
        return Ok(());
    };
    let Some(directive) = dockerfile.directive("syntax") else {
        return Ok(());
    };
    if let Frontend::Other(image) = Frontend::of(&directive.value) {
        let message = format!("# syntax={}: {image}: {ONLY_BUILT_IN}", directive.value);
        let text = render(
            &options.dockerfile_name,
            &dockerfile.source,
            directive.value_span,
            Severity::Error,
            &message,
            colour_stderr(),
        );
        return Err(Rendered(text).into());
    }
    Ok(())
}
