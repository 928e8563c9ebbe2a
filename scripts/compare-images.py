#!/usr/bin/env python3
"""compare-images.py A.tar B.tar: compare two images saved with `docker save`
or `strata save` (docker-archive tars) file by file (path, type, mode, owner,
size, content) and field by field (the config fields docker build sets, and
the history's created_by/empty_layer). Prints the differences; exit 1 if any."""
import hashlib, io, json, sys, tarfile

FIELDS = ["Env", "Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "Labels",
          "StopSignal", "Healthcheck", "Volumes", "OnBuild", "Shell"]

def load(path):
    archive = tarfile.open(path)
    manifest = json.load(archive.extractfile("manifest.json"))[0]
    config = json.load(archive.extractfile(manifest["Config"]))
    files = {}
    for layer in manifest["Layers"]:
        data = archive.extractfile(layer).read()
        if data[:2] == b"\x1f\x8b":
            import gzip; data = gzip.decompress(data)
        with tarfile.open(fileobj=io.BytesIO(data)) as t:
            for m in t.getmembers():
                name = m.name
                while name.startswith("./"):
                    name = name[2:]
                name = name.lstrip("/").rstrip("/")
                if not name or name == ".":
                    continue
                base = name.rsplit("/", 1)[-1]
                parent = name.rsplit("/", 1)[0] if "/" in name else ""
                if base == ".wh..wh..opq":
                    for k in [k for k in files if k.startswith(parent + "/")]:
                        del files[k]
                    continue
                if base.startswith(".wh."):
                    target = (parent + "/" if parent else "") + base[4:]
                    for k in [k for k in files if k == target or k.startswith(target + "/")]:
                        del files[k]
                    continue
                kind = "dir" if m.isdir() else "symlink" if m.issym() else "hardlink" if m.islnk() else "file" if m.isfile() else "other"
                digest = ""
                if m.isfile():
                    digest = hashlib.sha256(t.extractfile(m).read()).hexdigest()[:16]
                if m.islnk():
                    kind = "file"
                    target = m.linkname
                    while target.startswith("./"):
                        target = target[2:]
                    target = target.lstrip("/")
                    digest = files.get(target, {}).get("content", "")
                    size = files.get(target, {}).get("size", 0)
                else:
                    size = m.size if m.isfile() else 0
                files[name] = {"type": kind, "mode": oct(m.mode & 0o7777), "owner": f"{m.uid}:{m.gid}",
                               "size": size, "content": digest, "link": m.linkname if m.issym() else ""}
    return config, files

def main():
    a_config, a_files = load(sys.argv[1])
    b_config, b_files = load(sys.argv[2])
    differences = 0
    for path in sorted(set(a_files) | set(b_files)):
        a, b = a_files.get(path), b_files.get(path)
        if a != b:
            differences += 1
            print(f"file {path}:\n  A {a}\n  B {b}")
    for field in FIELDS:
        a = (a_config.get("config") or {}).get(field)
        b = (b_config.get("config") or {}).get(field)
        if (a or None) != (b or None):
            differences += 1
            print(f"config {field}:\n  A {a}\n  B {b}")
    for field in ["author", "architecture", "os"]:
        if a_config.get(field) != b_config.get(field):
            differences += 1
            print(f"{field}: A {a_config.get(field)} B {b_config.get(field)}")
    a_history = [(h.get("created_by"), h.get("empty_layer", False)) for h in a_config.get("history", [])]
    b_history = [(h.get("created_by"), h.get("empty_layer", False)) for h in b_config.get("history", [])]
    if a_history != b_history:
        differences += 1
        print("history differs:")
        for i in range(max(len(a_history), len(b_history))):
            a = a_history[i] if i < len(a_history) else None
            b = b_history[i] if i < len(b_history) else None
            mark = " " if a == b else "*"
            print(f" {mark} A {a}\n {mark} B {b}")
    print(f"{differences} differences")
    sys.exit(1 if differences else 0)

main()
