//! Workloads: exact counts and sharing of each generator, trace replay of the shipped files,
//! errors naming file, line and field, determinism and arrival rates.

use std::collections::HashSet;
use std::path::PathBuf;

use serving::workload::{Arrivals, Call, TRACE_SPAN_BASE, WorkloadSpec};
use serving::{Tokens, optimal_reuse};
use simcore::{InputError, SimTime};

fn spec(yaml: &str) -> WorkloadSpec {
    serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"))
}

fn offline(yaml: &str) -> Vec<Call> {
    spec(yaml).calls(1, &Arrivals::Offline).unwrap()
}

fn output(c: &Call) -> Tokens {
    Tokens::span(c.output_span, 0, c.output_tokens)
}

fn computed(calls: &[Call]) -> u64 {
    let prompts: Vec<Tokens> = calls.iter().map(|c| c.prompt.clone()).collect();
    optimal_reuse(&prompts).computed_tokens
}

/// Ids are 0..n, output spans are distinct and appear in no prompt except after their call.
fn check_ids_and_spans(calls: &[Call]) {
    for (i, c) in calls.iter().enumerate() {
        assert_eq!(c.id, i as u64);
        assert!(c.output_tokens >= 1);
        for a in &c.after {
            assert!(*a < c.id, "call {} waits for a later call {a}", c.id);
        }
    }
    let outs: HashSet<u64> = calls.iter().map(|c| c.output_span).collect();
    assert_eq!(outs.len(), calls.len(), "output spans are unique");
}

/// A scratch file with `text`, unique to this test.
fn scratch(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mlsim-serving-workload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn shared_prefix_defaults_are_sglangs_benchmark() {
    let calls = offline("type: shared-prefix");
    assert_eq!(calls.len(), 64 * 16);
    assert!(calls.iter().all(|c| c.prompt.len() == 2048 + 128 && c.output_tokens == 256));
    assert!(calls.iter().all(|c| c.after.is_empty() && c.delay == SimTime::ZERO));
    assert_eq!(computed(&calls), 64 * 2048 + 1024 * 128);
    check_ids_and_spans(&calls);
}

#[test]
fn shared_prefix_groups_share_exactly_their_system_prompt() {
    let calls = offline("type: shared-prefix\ngroups: 2\nprompts_per_group: 3");
    assert_eq!(calls.len(), 6);
    assert_eq!(computed(&calls), 2 * 2048 + 6 * 128);
    for a in &calls {
        for b in &calls {
            let shared = a.prompt.common_prefix_len(&b.prompt);
            let expected = if a.id == b.id {
                2048 + 128
            } else if a.program == b.program {
                2048
            } else {
                0
            };
            assert_eq!(shared, expected, "calls {} and {}", a.id, b.id);
        }
    }
    let per_group = |g| calls.iter().filter(|c| c.program == g).count();
    assert_eq!((per_group(0), per_group(1)), (3, 3));
    // Grouped order when not shuffled.
    let grouped = offline("type: shared-prefix\ngroups: 2\nprompts_per_group: 3\nshuffle: false");
    let programs: Vec<u64> = grouped.iter().map(|c| c.program).collect();
    assert_eq!(programs, [0, 0, 0, 1, 1, 1]);
}

#[test]
fn few_shot_shares_the_examples_and_answers_in_one_token() {
    let calls = offline("type: few-shot\nquestions: 10");
    assert_eq!(calls.len(), 10);
    assert!(calls.iter().all(|c| c.output_tokens == 1 && c.prompt.len() == 5 * 100 + 100));
    assert_eq!(calls[0].prompt.common_prefix_len(&calls[7].prompt), 500);
    assert_eq!(computed(&calls), 500 + 10 * 100);
    check_ids_and_spans(&calls);
}

#[test]
fn multi_turn_turns_extend_the_previous_turn_and_wait_for_it() {
    let calls = offline("type: multi-turn\nchats: 3\nthink_time: 2s");
    assert_eq!(calls.len(), 3 * 4);
    check_ids_and_spans(&calls);
    for chat in 0..3u64 {
        let turns: Vec<&Call> = calls.iter().filter(|c| c.program == chat).collect();
        assert_eq!(turns.len(), 4);
        assert!(turns[0].after.is_empty() && turns[0].delay == SimTime::ZERO);
        assert!((256..=512).contains(&turns[0].prompt.len()));
        for k in 1..4 {
            let (prev, this) = (turns[k - 1], turns[k]);
            let history = prev.prompt.concat(&output(prev));
            assert_eq!(this.prompt.prefix(history.len()), history, "turn {k} of chat {chat}");
            let user = this.prompt.len() - history.len();
            assert!((256..=512).contains(&user), "user message of {user} tokens");
            assert_eq!(this.after, vec![prev.id]);
            assert_eq!(this.delay, SimTime::from_secs(2));
        }
        assert!(turns.iter().all(|c| (4..=8).contains(&c.output_tokens)));
    }
    // Different chats share nothing.
    assert_eq!(calls[0].prompt.common_prefix_len(&calls[4].prompt), 0);

    let long = offline("type: multi-turn\nchats: 5\noutput: long");
    assert!(long.iter().all(|c| (256..=512).contains(&c.output_tokens)));
    let exact = offline("type: multi-turn\nchats: 5\noutput_tokens: [9, 9]");
    assert!(exact.iter().all(|c| c.output_tokens == 9));
}

#[test]
fn tree_of_thought_has_the_branching_shape() {
    let calls = offline("type: tree-of-thought\ntrees: 2\nbranches: 3\ndepth: 3");
    assert_eq!(calls.len(), 2 * (1 + 3 + 9));
    check_ids_and_spans(&calls);
    let roots: Vec<&Call> = calls.iter().filter(|c| c.after.is_empty()).collect();
    assert_eq!(roots.len(), 2);
    for c in &calls {
        let children: Vec<&Call> = calls.iter().filter(|d| d.after == vec![c.id]).collect();
        let level = tree_level(&calls, c);
        assert_eq!(children.len(), if level < 2 { 3 } else { 0 }, "call {} at level {level}", c.id);
        let seq = c.prompt.concat(&output(c));
        for d in &children {
            assert_eq!(d.program, c.program);
            assert_eq!(d.prompt.len(), seq.len() + 32);
            assert_eq!(d.prompt.prefix(seq.len()), seq);
            // Siblings are forks of one prompt.
            assert_eq!(d.prompt, children[0].prompt);
        }
    }
    assert_eq!(offline("type: tree-of-thought\ndepth: 1\ntrees: 4").len(), 4);
    assert_eq!(offline("type: tree-of-thought").len(), 32 * 7);
}

fn tree_level(calls: &[Call], c: &Call) -> usize {
    match c.after.first() {
        None => 0,
        Some(&p) => 1 + tree_level(calls, &calls[p as usize]),
    }
}

#[test]
fn agent_chains_grow_their_history_step_by_step() {
    let calls = offline("type: agent-chain\nagents: 2\nsteps: 3");
    assert_eq!(calls.len(), 6);
    check_ids_and_spans(&calls);
    let (a, b) = (&calls[0..3], &calls[3..6]);
    assert_eq!(a[0].prompt.len(), 1024 + 64);
    assert_eq!(a[0].prompt.common_prefix_len(&b[0].prompt), 1024, "the system prompt is shared");
    for chain in [a, b] {
        assert!(chain[0].after.is_empty());
        for k in 1..3 {
            let history = chain[k - 1].prompt.concat(&output(&chain[k - 1]));
            assert_eq!(chain[k].prompt.len(), history.len() + 128);
            assert_eq!(chain[k].prompt.prefix(history.len()), history);
            assert_eq!(chain[k].after, vec![chain[k - 1].id]);
        }
    }
    // Optimal: the system prompt once, then each call's new tokens.
    assert_eq!(computed(&calls), 1024 + 2 * (64 + 2 * (64 + 128)));
}

#[test]
fn generators_are_deterministic_per_seed() {
    for yaml in [
        "type: shared-prefix\ngroups: 4\nprompts_per_group: 4",
        "type: multi-turn\nchats: 4",
        "type: tree-of-thought\ntrees: 3",
        "type: agent-chain\nagents: 3",
        "type: few-shot\nquestions: 5",
    ] {
        let s = spec(yaml);
        let arr = Arrivals::Poisson { rate: 3.0 };
        assert_eq!(s.calls(5, &arr).unwrap(), s.calls(5, &arr).unwrap(), "{yaml}");
    }
    let s = spec("type: multi-turn\nchats: 8");
    let lens = |seed| -> Vec<u64> {
        s.calls(seed, &Arrivals::Offline).unwrap().iter().map(|c| c.prompt.len()).collect()
    };
    assert_ne!(lens(1), lens(2), "another seed draws other lengths");
}

#[test]
fn poisson_arrivals_have_the_configured_rate() {
    let s = spec("type: few-shot\nquestions: 10000");
    let calls = s.calls(11, &Arrivals::Poisson { rate: 100.0 }).unwrap();
    let times: Vec<f64> = calls.iter().map(|c| c.delay.as_secs_f64()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "arrivals in id order");
    // 10,000 gaps of mean 10 ms: 100 s, standard deviation 1 s.
    let last = *times.last().unwrap();
    assert!((last - 100.0).abs() < 5.0, "last arrival at {last} s");
    // Only roots are timed: dependents keep their think time.
    let chats = spec("type: multi-turn\nchats: 50\nthink_time: 1s")
        .calls(3, &Arrivals::Poisson { rate: 2.0 })
        .unwrap();
    assert!(chats.iter().filter(|c| !c.after.is_empty()).all(|c| c.delay == SimTime::from_secs(1)));
    assert!(chats.iter().filter(|c| c.after.is_empty()).all(|c| c.delay > SimTime::ZERO));
    // Trace arrivals: a generator has no timestamps, so everything is at 0.
    let t = spec("type: agent-chain").calls(3, &Arrivals::Trace { speedup: 1.0 }).unwrap();
    assert!(t.iter().all(|c| c.delay == SimTime::ZERO));
}

#[test]
fn mooncake_blocks_share_prefixes_by_hash_id() {
    let p = scratch(
        "blocks.jsonl",
        concat!(
            r#"{"timestamp": 0, "input_length": 1300, "output_length": 5, "hash_ids": [1, 2, 3]}"#,
            "\n",
            r#"{"timestamp": 1000, "input_length": 1100, "output_length": 7, "hash_ids": [1, 2, 9]}"#,
            "\n",
            r#"{"timestamp": 3000, "input_length": 10, "output_length": 1, "hash_ids": [4]}"#,
            "\n"
        ),
    );
    let yaml = format!("type: trace\nformat: mooncake\npath: {}", p.display());
    let s = spec(&yaml);
    let calls = s.calls(1, &Arrivals::Trace { speedup: 2.0 }).unwrap();
    assert_eq!(calls.len(), 3);
    check_ids_and_spans(&calls);
    assert_eq!(calls[0].prompt.len(), 1300);
    assert_eq!(calls[1].prompt.len(), 1100);
    assert_eq!(calls[0].prompt.common_prefix_len(&calls[1].prompt), 1024);
    assert_eq!(calls[0].prompt.pieces()[0].span, TRACE_SPAN_BASE + 1);
    assert_eq!(calls[0].prompt.pieces()[2].len, 1300 - 1024);
    assert_eq!((calls[0].output_tokens, calls[1].output_tokens), (5, 7));
    let times: Vec<SimTime> = calls.iter().map(|c| c.delay).collect();
    assert_eq!(times, [SimTime::ZERO, SimTime::from_millis(500), SimTime::from_millis(1500)]);
    let off = s.calls(1, &Arrivals::Offline).unwrap();
    assert!(off.iter().all(|c| c.delay == SimTime::ZERO));
    let limited = spec(&format!("{yaml}\nlimit: 2")).calls(1, &Arrivals::Offline).unwrap();
    assert_eq!(limited.len(), 2);
}

#[test]
fn the_shipped_mooncake_trace_replays() {
    let s =
        spec("type: trace\nformat: mooncake\npath: data/serving/mooncake_synthetic_trace.jsonl");
    let calls = s.calls(1, &Arrivals::Trace { speedup: 1.0 }).unwrap();
    assert_eq!(calls.len(), 3993);
    let mean_in = calls.iter().map(|c| c.prompt.len()).sum::<u64>() as f64 / 3993.0;
    assert!((mean_in - 15325.0).abs() < 1.0, "mean input {mean_in}");
    let last = calls.iter().map(|c| c.delay).max().unwrap();
    assert_eq!(last, SimTime::from_millis(1_022_025));
    // Its hash ids say that prompts share prefixes.
    assert!(computed(&calls[..200]) < calls[..200].iter().map(|c| c.prompt.len()).sum::<u64>());
}

#[test]
fn the_shipped_splitwise_trace_replays_without_sharing() {
    let s = spec("type: trace\nformat: splitwise\npath: data/serving/splitwise_conv.csv");
    let calls = s.calls(1, &Arrivals::Trace { speedup: 1.0 }).unwrap();
    assert_eq!(calls.len(), 19_366);
    check_ids_and_spans(&calls);
    let mean = calls.iter().map(|c| c.prompt.len()).sum::<u64>() as f64 / calls.len() as f64;
    assert!((mean - 1154.7).abs() < 0.05, "mean prefill {mean}");
    let spans: HashSet<u64> = calls.iter().map(|c| c.prompt.pieces()[0].span).collect();
    assert_eq!(spans.len(), calls.len(), "no shared prompts");
    let last = calls.last().unwrap().delay.as_secs_f64();
    assert!((last - 3501.7).abs() < 0.1, "last arrival {last}");
    let fast = s.calls(1, &Arrivals::Trace { speedup: 10.0 }).unwrap();
    assert!((fast.last().unwrap().delay.as_secs_f64() - 350.17).abs() < 0.01);
    // Poisson re-timing keeps the order and replaces the times.
    let p = s.calls(1, &Arrivals::Poisson { rate: 5.53 }).unwrap();
    let t = p.last().unwrap().delay.as_secs_f64();
    assert!((t - 19_366.0 / 5.53).abs() < 0.05 * 19_366.0 / 5.53, "{t}");
    let code =
        spec("type: trace\nformat: splitwise\npath: data/serving/splitwise_code.csv\nlimit: 100");
    assert_eq!(code.calls(1, &Arrivals::Offline).unwrap().len(), 100);
}

#[test]
fn malformed_trace_lines_name_file_line_and_field() {
    let p = scratch(
        "bad.csv",
        "arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,10,5\n1.5,20,abc\n",
    );
    let e = spec(&format!("type: trace\nformat: splitwise\npath: {}", p.display()))
        .calls(1, &Arrivals::Offline)
        .unwrap_err();
    match &e {
        InputError::Data { path, line, message } => {
            assert!(path.ends_with("bad.csv"), "{path}");
            assert_eq!(*line, 3);
            assert!(message.contains("num_decode_tokens"), "{message}");
        }
        other => panic!("{other}"),
    }
    assert!(e.to_string().contains("bad.csv:3:"), "{e}");

    let p = scratch("header.csv", "time,prompt,output\n0,1,1\n");
    let e = spec(&format!("type: trace\nformat: splitwise\npath: {}", p.display()))
        .calls(1, &Arrivals::Offline)
        .unwrap_err()
        .to_string();
    assert!(e.contains("header.csv:1:") && e.contains("arrived_at"), "{e}");

    let p = scratch(
        "bad.jsonl",
        "{\"timestamp\": 0, \"input_length\": 10, \"output_length\": 1, \"hash_ids\": [1]}\n{\"timestamp\": 5, \"output_length\": 1, \"hash_ids\": [1]}\n",
    );
    let e = spec(&format!("type: trace\nformat: mooncake\npath: {}", p.display()))
        .calls(1, &Arrivals::Offline)
        .unwrap_err()
        .to_string();
    assert!(e.contains("bad.jsonl:2:") && e.contains("input_length"), "{e}");

    let p = scratch(
        "ids.jsonl",
        "{\"timestamp\": 0, \"input_length\": 1000, \"output_length\": 1, \"hash_ids\": [1]}\n",
    );
    let e = spec(&format!("type: trace\nformat: mooncake\npath: {}", p.display()))
        .calls(1, &Arrivals::Offline)
        .unwrap_err()
        .to_string();
    assert!(e.contains("ids.jsonl:1:") && e.contains("hash_ids"), "{e}");

    let e = spec("type: trace\nformat: mooncake\npath: data/serving/no-such-trace.jsonl")
        .calls(1, &Arrivals::Offline)
        .unwrap_err();
    assert_eq!(e.field(), Some("workload.requests.path"));
}

#[test]
fn bad_settings_name_their_field() {
    let field = |yaml: &str| spec(yaml).validate().unwrap_err().field().unwrap().to_string();
    assert_eq!(field("type: shared-prefix\ngroups: 0"), "workload.requests.groups");
    assert_eq!(field("type: multi-turn\nuser_tokens: [512, 256]"), "workload.requests.user_tokens");
    assert_eq!(field("type: multi-turn\noutput_tokens: [0, 4]"), "workload.requests.output_tokens");
    assert_eq!(field("type: tree-of-thought\ndepth: 0"), "workload.requests.depth");
    assert_eq!(field("type: tree-of-thought\nbranches: 10\ndepth: 10"), "workload.requests.depth");
    assert_eq!(field("type: agent-chain\nsteps: 0"), "workload.requests.steps");
    assert_eq!(field("type: few-shot\noutput_tokens: 0"), "workload.requests.output_tokens");
    assert_eq!(
        field("type: trace\nformat: splitwise\npath: x.csv\nlimit: 0"),
        "workload.requests.limit"
    );
    let e = spec("type: few-shot").calls(1, &Arrivals::Poisson { rate: 0.0 }).unwrap_err();
    assert_eq!(e.field(), Some("workload.arrivals.rate"));
    // Unknown fields and types are refused by the parser.
    assert!(serde_saphyr::from_str::<WorkloadSpec>("type: few-shot\nshotz: 3").is_err());
    assert!(serde_saphyr::from_str::<WorkloadSpec>("type: many-shot").is_err());
    assert!(serde_saphyr::from_str::<WorkloadSpec>("type: trace\nformat: csv\npath: x").is_err());
}

#[test]
fn names_and_round_trips() {
    for (yaml, name) in [
        ("type: shared-prefix", "shared-prefix"),
        ("type: few-shot", "few-shot"),
        ("type: multi-turn", "multi-turn"),
        ("type: tree-of-thought", "tree-of-thought"),
        ("type: agent-chain", "agent-chain"),
        (
            "type: trace\nformat: mooncake\npath: data/serving/mooncake_synthetic_trace.jsonl",
            "trace",
        ),
    ] {
        let s = spec(yaml);
        assert_eq!(s.name(), name);
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<WorkloadSpec>(&json).unwrap(), s, "{json}");
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Every generator: ids 0..n, dependencies on earlier calls of the same program, each
        /// dependent's prompt extends its parent's prompt and output, and the optimum never
        /// computes more than all prompt tokens or less than the longest prompt.
        #[test]
        fn generated_calls_are_well_formed(
            kind in 0usize..5, a in 1u32..5, b in 1u32..4, c in 1u32..4, seed in 0u64..1000,
        ) {
            let yaml = match kind {
                0 => format!("type: shared-prefix\ngroups: {a}\nprompts_per_group: {b}\nsystem_prompt_tokens: {}", 10 * c),
                1 => format!("type: few-shot\nquestions: {a}\nshots: {b}"),
                2 => format!("type: multi-turn\nchats: {a}\nturns: {b}\nuser_tokens: [1, {}]", 20 * c),
                3 => format!("type: tree-of-thought\ntrees: {a}\nbranches: {b}\ndepth: {c}"),
                _ => format!("type: agent-chain\nagents: {a}\nsteps: {b}\nobservation_tokens: {c}"),
            };
            let calls = spec(&yaml).calls(seed, &Arrivals::Offline).unwrap();
            check_ids_and_spans(&calls);
            for d in &calls {
                for &p in &d.after {
                    let parent = &calls[p as usize];
                    prop_assert_eq!(parent.program, d.program);
                    let seq = parent.prompt.concat(&output(parent));
                    prop_assert_eq!(d.prompt.prefix(seq.len()), seq);
                }
            }
            let total: u64 = calls.iter().map(|c| c.prompt.len()).sum();
            let longest = calls.iter().map(|c| c.prompt.len()).max().unwrap();
            let best = computed(&calls);
            prop_assert!(best <= total && best >= longest);
        }
    }
}
