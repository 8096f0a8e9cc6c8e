//! SmallVille, the town of Generative Agents (Park et al., "Generative Agents: Interactive
//! Simulacra of Human Behavior", UIST 2023): its map, its 25 residents and the recorded
//! three-agent demo run, read from `data/agents/` (see `data/agents/README.md` for where each
//! file comes from; all are Apache-2.0, from joonspk-research/generative_agents).
//!
//! # The files and what each gives
//!
//! | file | read by | gives |
//! | --- | --- | --- |
//! | `the_ville_maze_meta_info.json` | [`SmallvilleMap::load`] | `maze_width` 140, `maze_height` 100 (checked against [`SMALLVILLE_WIDTH`] / [`SMALLVILLE_HEIGHT`]) |
//! | `the_ville_collision_maze.csv` | [`SmallvilleMap::load`] | which tiles are walls: one line of 14,000 integers, row-major, 100 rows of 140 (tile `(x, y)` is value `y * 140 + x`); non-zero = blocked (2,064 tiles), 0 = free (11,936) |
//! | `the_ville_arena_maze.csv` | [`SmallvilleMap::load`] | the arena (room) id of each tile, same layout; 0 = no arena |
//! | `the_ville_arena_blocks.csv` | [`SmallvilleMap::load`] | arena names, rows `id, world, sector, arena`; a [`Place`] is named `"sector: arena"` |
//! | `the_ville_sector_{maze,blocks}.csv` | the tests only | the sector layer, to check that every arena tile lies in the sector its name says |
//! | `base_the_ville_n25_personas.tsv` | [`personas`] | the 25 residents: name, start tile, `living_area` (`world:sector:arena`), vision radius |
//! | `base_the_ville_n25_meta.json`, `base_the_ville_n25_environment_0.json` | the tests only | upstream's own persona order and start tiles, to check the TSV against |
//! | `the_ville_demo3_meta.json` | [`load_demo`] | the demo's `persona_names` (agent order), `step` 8,655 and `sec_per_step` 10 |
//! | `the_ville_demo3_master_movement.json` | [`load_demo`], [`parse_movement`] | the demo replay (Isabella Rodriguez, Maria Lopez, Klaus Mueller; 8,655 steps of 10 s from 2023-02-13 00:00) |
//!
//! # Undoing the movement file's delta compression
//!
//! The movement file is an object keyed by step (`"0"` .. `"8654"`); each step maps a persona's
//! name to `{movement: [x, y], pronunciatio, description, chat}`. A persona is listed only on
//! the steps where its state changed. [`parse_movement`] therefore keeps, per persona, the last
//! position and `description` seen, and walks the steps in numeric order `0..steps` (not in
//! the object's key order): at each step the listed personas take their new position (and
//! description), every other persona keeps its last one, and the full position of every agent
//! is written out for that step. Step 0 must list every persona, since there is nothing to
//! carry forward yet; a step absent from the file, or present with an empty object, changes
//! nothing.
//!
//! Events are read off the same walk: an [`EventKind::Activity`] when a listed persona's
//! `description` differs from the one carried forward (so step 0, which only sets the
//! starting activities, has none), and an [`EventKind::Chat`] for every non-null `chat` list,
//! with its number of utterances. Events are ordered by step, then by agent (the order of
//! `persona_names`), an activity before a chat.
//!
//! # Facts of the recording (checked by the tests)
//!
//! - No persona moves more than one tile (Chebyshev) between consecutive steps: the
//!   simulator may move an agent one tile per 10 s step.
//! - 252 activity changes and 80 chat entries (920 utterances in all; a conversation is
//!   repeated on each of its steps, for both speakers).
//! - Every recorded position is a free tile of the collision map.
//! - The map has 63 arenas, each with free tiles, so [`SmallvilleMap::places`] gives 63 places;
//!   each resident's start tile is free and lies in its `living_area`.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;
use simcore::InputError;

use crate::world::{Pos, SMALLVILLE_HEIGHT, SMALLVILLE_WIDTH, STEP_SECS};

/// The map: which tiles are free and which arena (room) each tile is in.
#[derive(Clone, Debug, PartialEq)]
pub struct SmallvilleMap {
    /// Columns (140).
    pub width: u16,
    /// Rows (100).
    pub height: u16,
    /// Per tile, row-major: blocked.
    collision: Vec<bool>,
    /// Per tile, row-major: arena id, 0 for none.
    arena: Vec<u32>,
    /// Arena id -> `"sector: arena"`, sorted by id.
    arena_names: Vec<(u32, String)>,
}

/// An arena (a room or an outdoor area) and its free tiles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// `"sector: arena"`, e.g. `"Hobbs Cafe: cafe"`.
    pub name: String,
    /// Its free tiles, in row-major order.
    pub tiles: Vec<Pos>,
}

/// A resident of SmallVille (the 25-agent base simulation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Persona {
    /// Full name.
    pub name: String,
    /// Start tile.
    pub home: Pos,
    /// Where it lives, `world:sector:arena` as upstream writes it.
    pub living_area: String,
    /// Perception radius in tiles (Chebyshev).
    pub vision_r: u32,
}

impl Persona {
    /// The [`Place`] name of `living_area` (`"sector: arena"`), or `None` when it does not
    /// have three parts.
    pub fn home_place(&self) -> Option<String> {
        let mut parts = self.living_area.split(':');
        let (_world, sector, arena) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        Some(format!("{}: {}", sector.trim(), arena.trim()))
    }
}

/// A recorded run: every agent's position at every step, and what happened.
#[derive(Clone, Debug, PartialEq)]
pub struct Recording {
    /// Agent names; agent `i` is `names[i]`.
    pub names: Vec<String>,
    /// Seconds of world time per step.
    pub step_secs: f64,
    /// Number of steps.
    pub steps: u32,
    /// `steps` x agents, row-major by step.
    positions: Vec<Pos>,
    /// Activity changes and chats, by step then agent.
    pub events: Vec<RecordedEvent>,
}

impl Recording {
    /// Where `agent` is at `step`. Panics when either is out of range.
    pub fn position(&self, step: u32, agent: usize) -> Pos {
        assert!(step < self.steps, "step {step} of a {}-step recording", self.steps);
        assert!(agent < self.names.len(), "agent {agent} of {}", self.names.len());
        self.positions[step as usize * self.names.len() + agent]
    }

    /// Every agent's position at `step`, in agent order. Panics when `step` is out of range.
    pub fn positions_at(&self, step: u32) -> &[Pos] {
        assert!(step < self.steps, "step {step} of a {}-step recording", self.steps);
        let n = self.names.len();
        &self.positions[step as usize * n..(step as usize + 1) * n]
    }
}

/// Something an agent did at a step of a recording.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordedEvent {
    /// The step.
    pub step: u32,
    /// The agent (index into [`Recording::names`]).
    pub agent: u32,
    /// What happened.
    pub kind: EventKind,
}

/// The kind of a [`RecordedEvent`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// The agent's `description` (its current action) changed.
    Activity,
    /// The agent's entry carries a conversation (a non-null `chat` list).
    Chat {
        /// Number of utterances in the list.
        lines: u32,
    },
}

/// The file of the data folder's `agents/` entry, and its text. A missing file is reported
/// with every path tried and where the data should be.
fn read(file: &str) -> Result<(String, String), InputError> {
    let path = simcore::data::data_file(Path::new("agents").join(file))
        .map_err(|e| InputError::data(format!("agents/{file}"), 0, e.to_string()))?;
    let name = path.display().to_string();
    let text = std::fs::read_to_string(&path)
        .map_err(|e| InputError::data(name.clone(), 0, format!("cannot read the file: {e}")))?;
    Ok((name, text))
}

/// A JSON file's top-level value.
fn read_json(file: &str) -> Result<(String, Value), InputError> {
    let (name, text) = read(file)?;
    let value = serde_json::from_str(&text)
        .map_err(|e| InputError::data(name.clone(), e.line(), format!("not valid JSON: {e}")))?;
    Ok((name, value))
}

/// An unsigned integer field of a JSON object.
fn json_u64(name: &str, v: &Value, field: &str) -> Result<u64, InputError> {
    v.get(field).and_then(Value::as_u64).ok_or_else(|| {
        InputError::data(name, 0, format!("`{field}` is missing or not a non-negative integer"))
    })
}

/// A map layer: one line of `width * height` comma-separated integers.
fn parse_layer(name: &str, text: &str, width: u16, height: u16) -> Result<Vec<u32>, InputError> {
    let tiles = usize::from(width) * usize::from(height);
    let mut out = Vec::with_capacity(tiles);
    for (line_no, line) in text.lines().enumerate() {
        for field in line.split(',') {
            let field = field.trim();
            if field.is_empty() {
                continue;
            }
            let v = field.parse::<u32>().map_err(|_| {
                let i = out.len();
                InputError::data(
                    name,
                    line_no + 1,
                    format!(
                        "value {} (tile x {}, y {}): {field:?} is not a block id",
                        i + 1,
                        i % usize::from(width),
                        i / usize::from(width)
                    ),
                )
            })?;
            out.push(v);
        }
    }
    if out.len() != tiles {
        return Err(InputError::data(
            name,
            0,
            format!("{} values, expected {width} x {height} = {tiles}", out.len()),
        ));
    }
    Ok(out)
}

/// A `*_blocks.csv`: rows `id, world, name parts...`, as (id, parts after the id, trimmed).
fn parse_blocks(
    name: &str,
    text: &str,
    parts: usize,
) -> Result<Vec<(u32, Vec<String>)>, InputError> {
    let mut out = Vec::new();
    for (line_no, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != parts + 1 {
            return Err(InputError::data(
                name,
                line_no + 1,
                format!("{} fields, expected {} (id and {parts} names)", fields.len(), parts + 1),
            ));
        }
        let id = fields[0].parse::<u32>().map_err(|_| {
            InputError::data(name, line_no + 1, format!("{:?} is not a block id", fields[0]))
        })?;
        out.push((id, fields[1..].iter().map(|s| s.to_string()).collect()));
    }
    Ok(out)
}

impl SmallvilleMap {
    /// Reads the map from the data folder (`the_ville_maze_meta_info.json`, the collision and
    /// arena mazes, the arena blocks).
    pub fn load() -> Result<Self, InputError> {
        let (meta_name, meta) = read_json("the_ville_maze_meta_info.json")?;
        let width = json_u64(&meta_name, &meta, "maze_width")?;
        let height = json_u64(&meta_name, &meta, "maze_height")?;
        if (width, height) != (u64::from(SMALLVILLE_WIDTH), u64::from(SMALLVILLE_HEIGHT)) {
            return Err(InputError::data(
                meta_name,
                0,
                format!(
                    "the map is {width} x {height} tiles, expected SmallVille's \
                     {SMALLVILLE_WIDTH} x {SMALLVILLE_HEIGHT}"
                ),
            ));
        }
        let (width, height) = (SMALLVILLE_WIDTH, SMALLVILLE_HEIGHT);

        let (name, text) = read("the_ville_collision_maze.csv")?;
        let collision =
            parse_layer(&name, &text, width, height)?.into_iter().map(|v| v != 0).collect();
        let (arena_file, text) = read("the_ville_arena_maze.csv")?;
        let arena = parse_layer(&arena_file, &text, width, height)?;
        let (blocks_file, text) = read("the_ville_arena_blocks.csv")?;
        let mut arena_names: Vec<(u32, String)> = parse_blocks(&blocks_file, &text, 3)?
            .into_iter()
            .map(|(id, p)| (id, format!("{}: {}", p[1], p[2])))
            .collect();
        arena_names.sort();
        if let Some(w) = arena_names.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(InputError::data(
                blocks_file,
                0,
                format!("arena id {} named twice", w[0].0),
            ));
        }
        let map = SmallvilleMap { width, height, collision, arena, arena_names };
        if let Some(i) = map.arena.iter().position(|&a| a != 0 && map.arena_name(a).is_none()) {
            return Err(InputError::data(
                arena_file,
                1,
                format!(
                    "tile x {}, y {} is in arena {}, which {blocks_file} does not name",
                    i % usize::from(width),
                    i / usize::from(width),
                    map.arena[i]
                ),
            ));
        }
        Ok(map)
    }

    fn index(&self, p: Pos) -> Option<usize> {
        (p.x < self.width && p.y < self.height)
            .then(|| usize::from(p.y) * usize::from(self.width) + usize::from(p.x))
    }

    fn arena_name(&self, id: u32) -> Option<&str> {
        self.arena_names
            .binary_search_by_key(&id, |(i, _)| *i)
            .ok()
            .map(|k| self.arena_names[k].1.as_str())
    }

    /// Whether `p` is on the map and not a wall.
    pub fn is_free(&self, p: Pos) -> bool {
        self.index(p).is_some_and(|i| !self.collision[i])
    }

    /// The `"sector: arena"` name of the arena `p` is in, if any.
    pub fn place_at(&self, p: Pos) -> Option<&str> {
        let id = self.arena[self.index(p)?];
        if id == 0 { None } else { self.arena_name(id) }
    }

    /// Every arena with at least one free tile, with its free tiles, sorted by name.
    pub fn places(&self) -> Vec<Place> {
        let mut by_id: HashMap<u32, Vec<Pos>> = HashMap::new();
        for y in 0..self.height {
            for x in 0..self.width {
                let p = Pos::new(x, y);
                let i = usize::from(y) * usize::from(self.width) + usize::from(x);
                if self.arena[i] != 0 && !self.collision[i] {
                    by_id.entry(self.arena[i]).or_default().push(p);
                }
            }
        }
        let mut places: Vec<Place> = by_id
            .into_iter()
            .filter_map(|(id, tiles)| Some(Place { name: self.arena_name(id)?.to_string(), tiles }))
            .collect();
        places.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.tiles.cmp(&b.tiles)));
        places
    }
}

/// The 25 residents of the base simulation, in file order, from
/// `base_the_ville_n25_personas.tsv` (lines starting with `#` are comments; the first other
/// line is the header, whose columns `name`, `living_area`, `start_x`, `start_y` and
/// `vision_r` are looked up by name).
pub fn personas() -> Result<Vec<Persona>, InputError> {
    let (name, text) = read("base_the_ville_n25_personas.tsv")?;
    parse_personas(&name, &text)
}

fn parse_personas(name: &str, text: &str) -> Result<Vec<Persona>, InputError> {
    let mut lines =
        text.lines().enumerate().filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty());
    let (header_no, header) =
        lines.next().ok_or_else(|| InputError::data(name, 0, "no header line"))?;
    let header: Vec<&str> = header.split('\t').map(str::trim).collect();
    let col = |c: &str| {
        header.iter().position(|h| *h == c).ok_or_else(|| {
            InputError::data(name, header_no + 1, format!("the header has no `{c}` column"))
        })
    };
    let (c_name, c_area, c_x, c_y, c_vision) =
        (col("name")?, col("living_area")?, col("start_x")?, col("start_y")?, col("vision_r")?);
    let mut out = Vec::new();
    for (line_no, line) in lines {
        let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
        let err = |m: String| InputError::data(name, line_no + 1, m);
        if fields.len() != header.len() {
            return Err(err(format!("{} fields, the header has {}", fields.len(), header.len())));
        }
        let num =
            |c: usize, max: u32| -> Result<u32, InputError> {
                fields[c].parse::<u32>().ok().filter(|&v| v < max).ok_or_else(|| {
                    err(format!("`{}`: {:?} is not below {max}", header[c], fields[c]))
                })
            };
        let (x, y) = (num(c_x, SMALLVILLE_WIDTH.into())?, num(c_y, SMALLVILLE_HEIGHT.into())?);
        out.push(Persona {
            name: fields[c_name].to_string(),
            home: Pos::new(x as u16, y as u16),
            living_area: fields[c_area].to_string(),
            vision_r: num(c_vision, u32::MAX)?,
        });
    }
    Ok(out)
}

/// The recorded three-agent demo run (`the_ville_demo3_master_movement.json`), with agent
/// order, step count and step length from `the_ville_demo3_meta.json`.
pub fn load_demo() -> Result<Recording, InputError> {
    let (meta_name, meta) = read_json("the_ville_demo3_meta.json")?;
    let names: Vec<String> = meta
        .get("persona_names")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().map(|v| v.as_str().map(str::to_string)).collect())
        .ok_or_else(|| {
            InputError::data(&meta_name, 0, "`persona_names` is missing or not a list of names")
        })?;
    let steps = u32::try_from(json_u64(&meta_name, &meta, "step")?)
        .map_err(|_| InputError::data(&meta_name, 0, "`step` is too large"))?;
    let step_secs =
        meta.get("sec_per_step").and_then(Value::as_f64).filter(|s| *s > 0.0).ok_or_else(|| {
            InputError::data(&meta_name, 0, "`sec_per_step` is missing or not positive")
        })?;
    let (name, text) = read("the_ville_demo3_master_movement.json")?;
    let mut rec = parse_movement(&name, &text, &names, steps)?;
    rec.step_secs = step_secs;
    Ok(rec)
}

/// Parses a Generative Agents `master_movement.json` (the text of file `name`) for agents
/// `names` over `steps` steps, undoing its delta compression (see the module docs). The
/// result's `step_secs` is [`STEP_SECS`]; [`load_demo`] sets it from the run's meta.
///
/// Errors name the file and the step, persona and field at fault: text that is not JSON, a
/// step key that is not a number or is not below `steps`, a persona not in `names`, a missing
/// or malformed `movement` or `description`, a position off the 140 x 100 grid, a `chat`
/// that is neither null nor a list, and a persona absent from step 0.
pub fn parse_movement(
    name: &str,
    text: &str,
    names: &[String],
    steps: u32,
) -> Result<Recording, InputError> {
    let err = |m: String| InputError::data(name, 0, m);
    let root: Value = serde_json::from_str(text)
        .map_err(|e| InputError::data(name, e.line(), format!("not valid JSON: {e}")))?;
    let root =
        root.as_object().ok_or_else(|| err("expected an object keyed by step".to_string()))?;
    let agent_of: HashMap<&str, usize> =
        names.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();
    if agent_of.len() != names.len() {
        return Err(err("the persona names are not distinct".to_string()));
    }

    // Step number -> the entry of each agent it lists, checking every key.
    let mut by_step: HashMap<u32, Vec<Option<&Value>>> = HashMap::new();
    for (key, value) in root {
        let step = key
            .parse::<u32>()
            .map_err(|_| err(format!("step key {key:?} is not a step number")))?;
        if step >= steps {
            return Err(err(format!("step {step} is past the recording's {steps} steps")));
        }
        let entries = value
            .as_object()
            .ok_or_else(|| err(format!("step {step}: expected an object keyed by persona")))?;
        let mut listed = vec![None; names.len()];
        for (persona, entry) in entries {
            let agent = *agent_of.get(persona.as_str()).ok_or_else(|| {
                err(format!("step {step}: persona {persona:?} is not one of {names:?}"))
            })?;
            listed[agent] = Some(entry);
        }
        if by_step.insert(step, listed).is_some() {
            return Err(err(format!("step {step} appears twice")));
        }
    }

    let n = names.len();
    let mut positions = Vec::with_capacity(steps as usize * n);
    let mut current: Vec<Option<(Pos, String)>> = vec![None; n];
    let mut events = Vec::new();
    for step in 0..steps {
        let listed = by_step.remove(&step).unwrap_or_default();
        for (agent, entry) in listed.into_iter().enumerate() {
            let Some(entry) = entry else { continue };
            let at = |field: &str, what: &str| {
                err(format!("step {step}, persona {:?}, `{field}`: {what}", names[agent]))
            };
            let movement = entry
                .get("movement")
                .and_then(Value::as_array)
                .filter(|m| m.len() == 2)
                .ok_or_else(|| at("movement", "missing or not a list [x, y]"))?;
            let (x, y) = (movement[0].as_u64(), movement[1].as_u64());
            let pos = match (x, y) {
                (Some(x), Some(y))
                    if x < u64::from(SMALLVILLE_WIDTH) && y < u64::from(SMALLVILLE_HEIGHT) =>
                {
                    Pos::new(x as u16, y as u16)
                }
                _ => {
                    return Err(at(
                        "movement",
                        &format!(
                            "{}, {} is off the {SMALLVILLE_WIDTH} x {SMALLVILLE_HEIGHT} grid",
                            movement[0], movement[1]
                        ),
                    ));
                }
            };
            let description = entry
                .get("description")
                .and_then(Value::as_str)
                .ok_or_else(|| at("description", "missing or not a string"))?;
            let chat = match entry.get("chat") {
                None | Some(Value::Null) => None,
                Some(Value::Array(lines)) => Some(lines.len()),
                Some(_) => return Err(at("chat", "neither null nor a list of utterances")),
            };
            let agent_id = agent as u32;
            match &mut current[agent] {
                Some((p, d)) => {
                    *p = pos;
                    if d != description {
                        *d = description.to_string();
                        events.push(RecordedEvent {
                            step,
                            agent: agent_id,
                            kind: EventKind::Activity,
                        });
                    }
                }
                slot => *slot = Some((pos, description.to_string())),
            }
            if let Some(lines) = chat {
                let lines = u32::try_from(lines).unwrap_or(u32::MAX);
                events.push(RecordedEvent {
                    step,
                    agent: agent_id,
                    kind: EventKind::Chat { lines },
                });
            }
        }
        for (agent, state) in current.iter().enumerate() {
            let (p, _) = state.as_ref().ok_or_else(|| {
                err(format!(
                    "step {step}: persona {:?} has no position yet (every persona must be listed at step 0)",
                    names[agent]
                ))
            })?;
            positions.push(*p);
        }
    }
    Ok(Recording { names: names.to_vec(), step_secs: STEP_SECS, steps, positions, events })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// Two personas over four steps: Bo is absent from steps 1 and 3 (carried forward), step 2
    /// is missing, Al changes activity at step 1 and chats at step 3, keys are out of order.
    const TINY: &str = r#"{
        "3": {"Al": {"movement": [5, 6], "description": "talking @ x", "chat": [["Al", "hi"], ["Bo", "hey"], ["Al", "bye"]]}},
        "0": {"Bo": {"movement": [0, 99], "description": "sleeping", "chat": null},
              "Al": {"movement": [3, 4], "pronunciatio": "z", "description": "sleeping", "chat": null}},
        "1": {"Al": {"movement": [4, 5], "description": "walking", "chat": null}}
    }"#;

    #[test]
    fn a_hand_written_movement_file_is_decompressed() {
        let rec = parse_movement("tiny.json", TINY, &names(&["Al", "Bo"]), 4).unwrap();
        assert_eq!((rec.steps, rec.step_secs, rec.names.len()), (4, STEP_SECS, 2));
        let al: Vec<Pos> = (0..4).map(|s| rec.position(s, 0)).collect();
        let bo: Vec<Pos> = (0..4).map(|s| rec.position(s, 1)).collect();
        assert_eq!(al, [Pos::new(3, 4), Pos::new(4, 5), Pos::new(4, 5), Pos::new(5, 6)]);
        assert_eq!(bo, [Pos::new(0, 99); 4]);
        assert_eq!(rec.positions_at(3), [Pos::new(5, 6), Pos::new(0, 99)]);
        assert_eq!(
            rec.events,
            [
                RecordedEvent { step: 1, agent: 0, kind: EventKind::Activity },
                RecordedEvent { step: 3, agent: 0, kind: EventKind::Activity },
                RecordedEvent { step: 3, agent: 0, kind: EventKind::Chat { lines: 3 } },
            ]
        );
    }

    #[test]
    fn bad_movement_files_are_reported_with_step_persona_and_field() {
        let two = names(&["Al", "Bo"]);
        let e = |text: &str| parse_movement("m.json", text, &two, 2).unwrap_err().to_string();
        let missing = e(r#"{"0": {"Al": {"movement": [1, 1], "description": "a"}}}"#);
        assert!(missing.starts_with("m.json:0:") && missing.contains("\"Bo\""), "{missing}");
        assert!(missing.contains("step 0"), "{missing}");
        let off = e(r#"{"0": {"Al": {"movement": [1, 1], "description": "a"},
                              "Bo": {"movement": [140, 3], "description": "a"}}}"#);
        assert!(off.contains("step 0, persona \"Bo\", `movement`") && off.contains("off"), "{off}");
        let neg = e(r#"{"0": {"Al": {"movement": [-1, 1], "description": "a"}}}"#);
        assert!(neg.contains("`movement`") && neg.contains("off"), "{neg}");
        let key = e(r#"{"zero": {}}"#);
        assert!(key.contains("\"zero\" is not a step number"), "{key}");
        let past = e(r#"{"2": {}}"#);
        assert!(past.contains("step 2 is past"), "{past}");
        let who = e(r#"{"1": {"Cy": {"movement": [1, 1], "description": "a"}}}"#);
        assert!(who.contains("step 1: persona \"Cy\" is not one of"), "{who}");
        let twice = e(r#"{"1": {}, "01": {}}"#);
        assert!(twice.contains("step 1 appears twice"), "{twice}");
        let desc = e(r#"{"0": {"Al": {"movement": [1, 1]}}}"#);
        assert!(desc.contains("`description`"), "{desc}");
        let chat = e(r#"{"0": {"Al": {"movement": [1, 1], "description": "a", "chat": 3}}}"#);
        assert!(chat.contains("`chat`"), "{chat}");
        let json = e("{\n\"0\": [");
        assert!(json.starts_with("m.json:2:") && json.contains("not valid JSON"), "{json}");
    }

    #[test]
    fn persona_files_are_checked() {
        let head = "# comment\nname\tliving_area\tstart_x\tstart_y\tvision_r\n";
        let ok = parse_personas("p.tsv", &format!("{head}A\tw:s:a\t1\t2\t8\n")).unwrap();
        assert_eq!(
            ok,
            [Persona {
                name: "A".into(),
                home: Pos::new(1, 2),
                living_area: "w:s:a".into(),
                vision_r: 8
            }]
        );
        assert_eq!(ok[0].home_place().as_deref(), Some("s: a"));
        let e = parse_personas("p.tsv", &format!("{head}A\tw:s:a\t140\t2\t8\n")).unwrap_err();
        assert!(e.to_string().starts_with("p.tsv:3: `start_x`"), "{e}");
        let e = parse_personas("p.tsv", "name\tstart_x\n").unwrap_err();
        assert!(e.to_string().contains("no `living_area` column"), "{e}");
    }

    #[test]
    fn the_map_has_walls_and_named_places_that_match_the_sector_layer() {
        let map = SmallvilleMap::load().unwrap();
        assert_eq!((map.width, map.height), (140, 100));
        assert_eq!(map.collision.iter().filter(|&&b| b).count(), 2_064);
        assert!(map.is_free(Pos::new(0, 0)) && !map.is_free(Pos::new(80, 12)));
        assert!(!map.is_free(Pos::new(140, 5)) && !map.is_free(Pos::new(5, 100)));
        let places = map.places();
        assert_eq!(places.len(), 63);
        assert!(places.windows(2).all(|w| w[0].name < w[1].name));
        for place in &places {
            assert!(!place.tiles.is_empty(), "{}", place.name);
            for &t in &place.tiles {
                assert!(map.is_free(t));
                assert_eq!(map.place_at(t), Some(place.name.as_str()));
            }
        }
        assert!(places.iter().any(|p| p.name == "Hobbs Cafe: cafe"));

        // Every arena tile lies in the sector that the arena's name gives.
        let (name, text) = read("the_ville_sector_maze.csv").unwrap();
        let sector = parse_layer(&name, &text, map.width, map.height).unwrap();
        let (name, text) = read("the_ville_sector_blocks.csv").unwrap();
        let sectors: HashMap<u32, String> = parse_blocks(&name, &text, 2)
            .unwrap()
            .into_iter()
            .map(|(id, p)| (id, p[1].clone()))
            .collect();
        for (i, &a) in map.arena.iter().enumerate() {
            if a != 0 {
                let arena = map.arena_name(a).unwrap();
                assert!(arena.starts_with(&format!("{}: ", sectors[&sector[i]])), "{arena}");
            }
        }
    }

    #[test]
    fn the_25_residents_start_on_free_tiles_in_their_homes() {
        let map = SmallvilleMap::load().unwrap();
        let people = personas().unwrap();
        assert_eq!(people.len(), 25);
        let (_, meta) = read_json("base_the_ville_n25_meta.json").unwrap();
        let (_, env) = read_json("base_the_ville_n25_environment_0.json").unwrap();
        let order: Vec<&str> =
            meta["persona_names"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(people.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), order);
        for p in &people {
            let start = &env[p.name.as_str()];
            assert_eq!(
                (u64::from(p.home.x), u64::from(p.home.y)),
                (start["x"].as_u64().unwrap(), start["y"].as_u64().unwrap()),
                "{}",
                p.name
            );
            assert!(map.is_free(p.home), "{}", p.name);
            assert_eq!(map.place_at(p.home).map(str::to_string), p.home_place(), "{}", p.name);
            assert_eq!(p.vision_r, 8);
        }
    }

    /// The facts of the demo recording the simulator relies on (see the module docs).
    #[test]
    fn the_demo_recording_moves_one_tile_a_step_on_free_tiles() {
        let map = SmallvilleMap::load().unwrap();
        let rec = load_demo().unwrap();
        assert_eq!(rec.names, ["Isabella Rodriguez", "Maria Lopez", "Klaus Mueller"]);
        assert_eq!((rec.steps, rec.step_secs), (8_655, 10.0));
        assert_eq!(rec.position(0, 2), Pos::new(127, 46));

        let mut max_move = 0;
        for step in 0..rec.steps {
            for agent in 0..rec.names.len() {
                let p = rec.position(step, agent);
                assert!(map.is_free(p), "step {step} agent {agent} at {p:?}");
                if step > 0 {
                    max_move = max_move.max(rec.position(step - 1, agent).dist(p));
                }
            }
        }
        assert_eq!(max_move, 1);

        let activities = rec.events.iter().filter(|e| e.kind == EventKind::Activity).count();
        let chats: Vec<u32> = rec
            .events
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::Chat { lines } => Some(lines),
                EventKind::Activity => None,
            })
            .collect();
        assert_eq!(activities, 252);
        assert_eq!(chats.len(), 80);
        assert_eq!(chats.iter().sum::<u32>(), 920);
        assert!(rec.events.windows(2).all(|w| (w[0].step, w[0].agent) <= (w[1].step, w[1].agent)));
        let first_chat = rec.events.iter().find(|e| matches!(e.kind, EventKind::Chat { .. }));
        assert_eq!(first_chat.map(|e| e.step), Some(3_574));
    }

    #[test]
    fn a_missing_data_file_names_the_data_folder() {
        let e = read("no_such_file.json").unwrap_err().to_string();
        assert!(
            e.starts_with("agents/no_such_file.json:0:") && e.contains("data/README.md"),
            "{e}"
        );
    }
}
