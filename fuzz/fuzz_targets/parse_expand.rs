//! Parse arbitrary bytes as a Dockerfile, type it, and expand every argument.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use strata_dockerfile::{
    BuildOptions, Command, Expander, GlobalScope, Lexer, StageScope, Stages, compat_commands,
    dump, heredocs_from_line, lossy, parse, parse_port, parse_signal, Chmod,
};

fuzz_target!(|data: &[u8]| {
    let text = lossy(data);
    let mut environment = BTreeMap::new();
    environment.insert("A".to_string(), "a b*c".to_string());
    environment.insert("EMPTY".to_string(), String::new());
    // The input as one word and as words, with both escape characters.
    for escape in ['\\', '`'] {
        let lexer = Lexer::new(escape);
        let _ = lexer.expand_word(&text, &environment);
        let _ = lexer.expand_words(&text, &environment);
    }
    let _ = heredocs_from_line(&text);
    let _ = parse_signal(&text);
    let _ = parse_port(&text);
    let _ = Chmod::parse(&text);

    let Ok(dockerfile) = parse(data) else { return };
    let _ = dump(&dockerfile);
    let _ = compat_commands(&dockerfile);
    for instruction in &dockerfile.instructions {
        let _ = dockerfile.source.slice(instruction.span);
        let _ = dockerfile.source.position(instruction.span.end);
        for argument in &instruction.arguments {
            let _ = Lexer::new(dockerfile.escape).expand_word(&argument.text, &environment);
        }
    }
    let Ok(stages) = Stages::parse(&dockerfile) else { return };
    let options = BuildOptions::default();
    let Ok(global) = GlobalScope::new(&stages.meta_args, &options, "", dockerfile.escape, &dockerfile.source) else {
        return;
    };
    for stage in &stages.stages {
        let _ = global.expand_from(&stage.from, dockerfile.escape);
        let mut scope = StageScope::new(["PATH=/usr/bin"]);
        for command in &stage.commands {
            if let Command::Arg(arg) = command {
                let _ = scope.declare(arg, &global, &options, dockerfile.escape);
                continue;
            }
            let environment = scope.environment().clone();
            let mut expander = Expander::new(dockerfile.escape, &environment);
            if let Ok(Command::Env(env)) = command.expand(&mut expander) {
                for pair in env.pairs {
                    scope.set_env(&pair.key, &pair.value);
                }
            }
            if let Command::Expose(expose) = command {
                let _ = expose.expand_ports(&mut expander);
            }
            if let Command::Run(run) = command {
                let _ = run.mounts(&mut expander);
            }
        }
    }
});
