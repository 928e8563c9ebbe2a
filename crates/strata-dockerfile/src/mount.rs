//! `RUN --mount=...` and `RUN --device=...` values, parsed as BuildKit's
//! `parseMount` and `ParseDevice` do (CSV fields, keys case-insensitive).

use crate::lexer::ExpandError;
use strata_go::strconv::{self, parse_bool, parse_uint};
use strata_go::strings;
use strata_go::suggest::with_suggestion;

/// The five mount types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MountType {
    /// `type=bind` (the default): a directory of the context or another stage.
    Bind,
    /// `type=cache`: a persistent cache directory.
    Cache,
    /// `type=tmpfs`: an empty tmpfs.
    Tmpfs,
    /// `type=secret`: a secret file (or environment variable).
    Secret,
    /// `type=ssh`: an SSH agent socket.
    Ssh,
}

impl MountType {
    /// The name as written in a Dockerfile.
    pub fn as_str(self) -> &'static str {
        match self {
            MountType::Bind => "bind",
            MountType::Cache => "cache",
            MountType::Tmpfs => "tmpfs",
            MountType::Secret => "secret",
            MountType::Ssh => "ssh",
        }
    }
}

/// How concurrent builds share a cache mount.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sharing {
    /// `shared` (the default): concurrent writers allowed.
    Shared,
    /// `private`: a new directory when the cache is in use.
    Private,
    /// `locked`: wait until the other user releases it.
    Locked,
}

/// A parsed `--mount`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    /// The type (default bind).
    pub kind: MountType,
    /// `from=`: a stage, image or context to take the source from.
    pub from: Option<String>,
    /// `source=`/`src=`: the path in `from`.
    pub source: Option<String>,
    /// `target=`/`dst=`/`destination=`: where it is mounted.
    pub target: Option<String>,
    /// Read-only: explicit `ro`/`rw`, else false for cache and tmpfs, true otherwise.
    pub read_only: bool,
    /// tmpfs `size=`, in bytes (0 when unset).
    pub size_limit: i64,
    /// `id=`: the cache or secret id.
    pub id: Option<String>,
    /// `sharing=` (cache only).
    pub sharing: Option<Sharing>,
    /// `required` (secret and ssh only).
    pub required: bool,
    /// `env=`: the environment variable a secret is exposed as.
    pub env: Option<String>,
    /// `mode=` (octal; secret, ssh and cache only).
    pub mode: Option<u32>,
    /// `uid=` (secret, ssh and cache only).
    pub uid: Option<u32>,
    /// `gid=` (secret, ssh and cache only).
    pub gid: Option<u32>,
}

/// A parsed `--device`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    /// The CDI device name.
    pub name: String,
    /// Whether the build fails when the device is missing.
    pub required: bool,
}

/// Go's CSV reader for one line (`go-csvvalue`): fields separated by commas,
/// double-quoted fields with `""` for a quote.
pub fn csv_fields(line: &str) -> Result<Vec<String>, String> {
    let mut line = line;
    if let Some(stripped) = line.strip_suffix('\n') {
        line = stripped.strip_suffix('\r').unwrap_or(stripped);
    }
    if line.is_empty() {
        return Err("EOF".to_string());
    }
    let mut fields = Vec::new();
    let mut rest = line;
    let mut position = 0usize;
    loop {
        if !rest.starts_with('"') {
            let (field, next) = match rest.find(',') {
                Some(index) => (&rest[..index], Some(&rest[index + 1..])),
                None => (rest, None),
            };
            if let Some(quote) = field.find('"') {
                return Err(format!(
                    "parse error on line 1, column {}: bare \" in non-quoted-field",
                    position + quote + 1
                ));
            }
            fields.push(field.to_string());
            match next {
                Some(next) => {
                    position += field.len() + 1;
                    rest = next;
                    continue;
                }
                None => break,
            }
        }
        // Quoted field.
        rest = &rest[1..];
        position += 1;
        let mut field = String::new();
        loop {
            let Some(index) = rest.find('"') else {
                return Err(format!(
                    "parse error on line 1, column {}: extraneous or missing \" in quoted-field",
                    position + 1
                ));
            };
            field.push_str(&rest[..index]);
            rest = &rest[index + 1..];
            position += index + 1;
            if let Some(after) = rest.strip_prefix('"') {
                field.push('"');
                rest = after;
                position += 1;
                continue;
            }
            if let Some(after) = rest.strip_prefix(',') {
                fields.push(std::mem::take(&mut field));
                rest = after;
                position += 1;
                break;
            }
            if rest.is_empty() {
                fields.push(std::mem::take(&mut field));
                return Ok(fields);
            }
            return Err(format!(
                "parse error on line 1, column {}: extraneous or missing \" in quoted-field",
                position
            ));
        }
    }
    Ok(fields)
}

/// A problem with a mount or device value: BuildKit's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum MountError {
    Invalid(String),
    Expand(ExpandError),
}

const MOUNT_KEYS: [&str; 19] = [
    "type",
    "from",
    "source",
    "target",
    "readonly",
    "id",
    "sharing",
    "required",
    "size",
    "mode",
    "uid",
    "gid",
    "src",
    "dst",
    "destination",
    "ro",
    "rw",
    "readwrite",
    "env",
];

/// Expands one word of a mount value.
pub(crate) type WordExpander<'a> = dyn FnMut(&str) -> Result<String, ExpandError> + 'a;

/// BuildKit's `parseMount(value, expander)`. Without an expander (parse time)
/// only the CSV syntax and `from=` are checked; with one, every value is
/// expanded and every key validated.
pub(crate) fn parse_mount(
    value: &str,
    mut expander: Option<&mut WordExpander<'_>>,
) -> Result<Mount, MountError> {
    let fields = csv_fields(value)
        .map_err(|error| MountError::Invalid(format!("failed to parse csv mounts: {error}")))?;
    let mut mount = Mount {
        kind: MountType::Bind,
        from: None,
        source: None,
        target: None,
        read_only: false,
        size_limit: 0,
        id: None,
        sharing: None,
        required: false,
        env: None,
        mode: None,
        uid: None,
        gid: None,
    };
    let mut read_only_auto = true;
    for field in &fields {
        let (key, value) = match field.split_once('=') {
            Some((key, value)) => (strings::to_lower(key), Some(value.to_string())),
            None => (strings::to_lower(field), None),
        };
        let Some(mut value) = value else {
            if expander.is_some() {
                set_bare_key(&mut mount, &mut read_only_auto, &key, field)?;
            }
            continue;
        };
        match expander.as_mut() {
            Some(expand) => value = expand(&value).map_err(MountError::Expand)?,
            None if key == "from" => check_from_unexpanded(&key, &value)?,
            None => continue,
        }
        set_key(&mut mount, &mut read_only_auto, &key, &value, field)?;
    }
    check_file_info(&mount)?;
    if read_only_auto {
        mount.read_only = !matches!(mount.kind, MountType::Cache | MountType::Tmpfs);
    }
    check_secret(&mount)?;
    if mount.sharing.is_some() && mount.kind != MountType::Cache {
        return Err(MountError::Invalid(format!(
            "invalid cache sharing set for {} mount",
            mount.kind.as_str()
        )));
    }
    Ok(mount)
}

/// A key without `=value`: the boolean keys (true), else an error.
fn set_bare_key(
    mount: &mut Mount,
    read_only_auto: &mut bool,
    key: &str,
    field: &str,
) -> Result<(), MountError> {
    match key {
        "readonly" | "ro" => {
            mount.read_only = true;
            *read_only_auto = false;
        }
        "readwrite" | "rw" => {
            mount.read_only = false;
            *read_only_auto = false;
        }
        "required" => {
            if matches!(mount.kind, MountType::Secret | MountType::Ssh) {
                mount.required = true;
            } else {
                return Err(unexpected_key(key, mount.kind));
            }
        }
        _ => {
            return Err(MountError::Invalid(format!(
                "invalid field '{field}' must be a key=value pair"
            )));
        }
    }
    Ok(())
}

/// At parse time `from=` may not use variables (a trailing `$` is literal).
fn check_from_unexpanded(key: &str, value: &str) -> Result<(), MountError> {
    if value
        .find('$')
        .is_some_and(|index| index != value.len() - 1)
    {
        return Err(MountError::Invalid(format!(
            "'{key}' doesn't support variable expansion, define alias stage instead"
        )));
    }
    Ok(())
}

/// One `key=value` field, the value expanded.
fn set_key(
    mount: &mut Mount,
    read_only_auto: &mut bool,
    key: &str,
    value: &str,
    field: &str,
) -> Result<(), MountError> {
    let invalid = MountError::Invalid;
    let bad_value = || invalid(format!("invalid value for {key}: {value}"));
    let file_info_type = || matches!(mount.kind, MountType::Secret | MountType::Ssh);
    match key {
        "type" => mount.kind = mount_type(value)?,
        "from" => mount.from = Some(value.to_string()),
        "source" | "src" => mount.source = Some(value.to_string()),
        "target" | "dst" | "destination" => mount.target = Some(value.to_string()),
        "readonly" | "ro" => {
            mount.read_only = parse_bool(value).ok_or_else(bad_value)?;
            *read_only_auto = false;
        }
        "readwrite" | "rw" => {
            mount.read_only = !parse_bool(value).ok_or_else(bad_value)?;
            *read_only_auto = false;
        }
        "required" => {
            if file_info_type() {
                mount.required = parse_bool(value).ok_or_else(bad_value)?;
            } else {
                return Err(unexpected_key(key, mount.kind));
            }
        }
        "size" => {
            if mount.kind == MountType::Tmpfs {
                mount.size_limit = crate::values::parse_size(value).map_err(|_| bad_value())?;
            } else {
                return Err(unexpected_key(key, mount.kind));
            }
        }
        "id" => mount.id = Some(value.to_string()),
        "sharing" => mount.sharing = Some(sharing(value)?),
        "mode" => mount.mode = number(value, 8, "mode")?,
        "uid" => mount.uid = number(value, 10, "uid")?,
        "gid" => mount.gid = number(value, 10, "gid")?,
        "env" => mount.env = Some(value.to_string()),
        _ => {
            return Err(invalid(with_suggestion(
                format!("unexpected key '{key}' in '{field}'"),
                key,
                &MOUNT_KEYS,
                true,
            )));
        }
    }
    Ok(())
}

fn unexpected_key(key: &str, kind: MountType) -> MountError {
    MountError::Invalid(format!(
        "unexpected key '{key}' for mount type '{}'",
        kind.as_str()
    ))
}

fn mount_type(value: &str) -> Result<MountType, MountError> {
    match strings::to_lower(value).as_str() {
        "bind" => Ok(MountType::Bind),
        "cache" => Ok(MountType::Cache),
        "tmpfs" => Ok(MountType::Tmpfs),
        "secret" => Ok(MountType::Secret),
        "ssh" => Ok(MountType::Ssh),
        _ => Err(MountError::Invalid(with_suggestion(
            format!("unsupported mount type {}", strconv::quote(value)),
            value,
            // BuildKit ranges over a map: sorted here.
            &["bind", "cache", "secret", "ssh", "tmpfs"],
            true,
        ))),
    }
}

fn sharing(value: &str) -> Result<Sharing, MountError> {
    match strings::to_lower(value).as_str() {
        "shared" => Ok(Sharing::Shared),
        "private" => Ok(Sharing::Private),
        "locked" => Ok(Sharing::Locked),
        _ => Err(MountError::Invalid(with_suggestion(
            format!("unsupported sharing value {}", strconv::quote(value)),
            value,
            // BuildKit ranges over a map: sorted here.
            &["locked", "private", "shared"],
            true,
        ))),
    }
}

/// `mode`, `uid` or `gid`: a 32-bit unsigned number in `radix`.
fn number(value: &str, radix: u32, name: &str) -> Result<Option<u32>, MountError> {
    let number = parse_uint(value, radix, 32)
        .map_err(|_| MountError::Invalid(format!("invalid value {value} for {name}")))?;
    Ok(u32::try_from(number).ok())
}

/// `mode`, `uid` and `gid` only for the mounts that create files.
fn check_file_info(mount: &Mount) -> Result<(), MountError> {
    let file_info_allowed = matches!(
        mount.kind,
        MountType::Secret | MountType::Ssh | MountType::Cache
    );
    if file_info_allowed {
        return Ok(());
    }
    let kind = strconv::quote(mount.kind.as_str());
    let given = [("mode", mount.mode), ("uid", mount.uid), ("gid", mount.gid)];
    match given.iter().find(|(_, value)| value.is_some()) {
        Some((name, _)) => Err(MountError::Invalid(format!(
            "{name} not allowed for {kind} type mounts"
        ))),
        None => Ok(()),
    }
}

/// A secret mount: no `from` or sharing, a source, target or id, not both
/// source and id.
fn check_secret(mount: &Mount) -> Result<(), MountError> {
    if mount.kind != MountType::Secret {
        return Ok(());
    }
    let invalid = |message: &str| Err(MountError::Invalid(message.to_string()));
    if mount.from.as_deref().is_some_and(|from| !from.is_empty()) {
        return invalid("secret mount should not have a from");
    }
    if mount.sharing.is_some() {
        return invalid("secret mount should not define sharing");
    }
    let empty = |value: &Option<String>| value.as_deref().is_none_or(str::is_empty);
    if empty(&mount.source) && empty(&mount.target) && empty(&mount.id) {
        return invalid("invalid secret mount. one of source, target required");
    }
    if !empty(&mount.source) && !empty(&mount.id) {
        return invalid("both source and id can't be set");
    }
    Ok(())
}

/// BuildKit's `ParseDevice`.
pub(crate) fn parse_device(value: &str) -> Result<Device, String> {
    let fields =
        csv_fields(value).map_err(|error| format!("failed to parse csv devices: {error}"))?;
    let mut device = Device {
        name: String::new(),
        required: false,
    };
    for field in &fields {
        let Some((key, value)) = field.split_once('=') else {
            if strings::to_lower(field) == "required" {
                device.required = true;
                continue;
            }
            if device.name.is_empty() {
                device.name = field.clone();
                continue;
            }
            return Err(format!("invalid field '{field}' must be a key=value pair"));
        };
        let key = strings::to_lower(key);
        match key.as_str() {
            "name" => {
                if !device.name.is_empty() {
                    return Err(format!("device name already set to {}", device.name));
                }
                device.name = value.to_string();
            }
            "required" => {
                device.required =
                    parse_bool(value).ok_or_else(|| format!("invalid value for {key}: {value}"))?;
            }
            _ => {
                if device.name.is_empty() {
                    device.name = field.clone();
                    continue;
                }
                return Err(with_suggestion(
                    format!("unexpected key '{key}' in '{field}'"),
                    &key,
                    &["name", "required"],
                    true,
                ));
            }
        }
    }
    Ok(device)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_identity(text: &str) -> Result<String, ExpandError> {
        Ok(text.to_string())
    }

    fn full(value: &str) -> Result<Mount, MountError> {
        let mut expand = expand_identity;
        parse_mount(value, Some(&mut expand))
    }

    #[test]
    fn csv() {
        assert_eq!(csv_fields("a,b=c,\"d,e\"").unwrap(), ["a", "b=c", "d,e"]);
        assert_eq!(csv_fields("\"a\"\"b\"").unwrap(), ["a\"b"]);
        assert_eq!(csv_fields("").unwrap_err(), "EOF");
        assert!(csv_fields("a\"b").is_err());
        assert!(csv_fields("\"ab").is_err());
    }

    #[test]
    fn mounts() {
        let cache =
            full("type=cache,target=/root/.cache,sharing=locked,id=pip,mode=0755,uid=1").unwrap();
        assert_eq!(cache.kind, MountType::Cache);
        assert_eq!(cache.sharing, Some(Sharing::Locked));
        assert_eq!(cache.mode, Some(0o755));
        assert!(!cache.read_only);
        let bind = full("target=/x,from=build,source=/out").unwrap();
        assert!(bind.read_only);
        let secret = full("type=secret,id=npm,required,env=TOKEN").unwrap();
        assert!(secret.required);
        assert_eq!(
            full("type=tmpfs,target=/t,size=64m").unwrap().size_limit,
            64 << 20
        );
        assert_eq!(
            full("type=cahce").unwrap_err(),
            MountError::Invalid("unsupported mount type \"cahce\" (did you mean cache?)".into())
        );
        assert_eq!(
            full("type=bind,targt=/x").unwrap_err(),
            MountError::Invalid(
                "unexpected key 'targt' in 'targt=/x' (did you mean target?)".into()
            )
        );
        assert!(full("type=bind,required").is_err());
        assert!(full("type=secret").is_err());
        assert!(full("type=bind,mode=0700").is_err());
        assert!(full("type=bind,sharing=shared").is_err());
        assert!(parse_mount("from=$stage,target=/x", None).is_err());
        assert!(parse_mount("type=nonsense,target=/x", None).is_ok());
    }

    #[test]
    fn devices() {
        assert_eq!(
            parse_device("vendor.com/gpu=all,required").unwrap(),
            Device {
                name: "vendor.com/gpu=all".into(),
                required: true
            }
        );
        assert_eq!(parse_device("name=x,required=false").unwrap().name, "x");
        assert!(parse_device("name=x,name=y").is_err());
    }
}
