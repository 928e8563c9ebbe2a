# COPY --from with --exclude and --parents: the same rules as for the
# context (BuildKit's exclude tests, copying from a stage); a wildcard
# matching nothing in a stage copies nothing.
true
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base AS base
RUN mkdir -p /s/dir1/sub /s/dir2 /s/x/y && cd /s && echo 1 > dir1/a.png && echo 2 > dir1/b.txt && echo 3 > dir1/sub/c.png && echo 4 > dir2/d.mp3 && echo 5 > top.txt && echo 6 > x/y/z.txt && chown -R 1000:1000 /s/dir1

FROM scratch
COPY --from=base --exclude=*/*.png /s /1
COPY --from=base --exclude=*.mp3 /s/dir2/ /3/
COPY --from=base --exclude=*.png --exclude=*.txt /s/dir* /4/
COPY --from=base --exclude=* /s/dir* /6
COPY --from=base --parents /s/./dir1/sub /s/./x/y/z.txt /p/
COPY --from=base --parents /s/x/y/z.txt /p2/
COPY --from=base /nomatch* /empty/
COPY --from=base --parents /s/./**/*.png /stars/
DOCKERFILE
