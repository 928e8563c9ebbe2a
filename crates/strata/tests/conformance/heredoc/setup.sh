# Heredocs: RUN with a script (no shebang: through the shell; a shebang: run
# from /dev/pipes), a heredoc fed to a command, COPY heredocs expanded or
# not (quoted delimiter), <<- tab stripping, several in one COPY, with
# --chown and --chmod.
true
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
ENV X=ex
RUN <<EOF
echo hello > /h
echo "$X" >> /h
EOF
RUN <<EOF
#!/bin/sh
echo script $0 > /s
EOF
RUN cat <<EOF > /cat
line $X
EOF
COPY <<EOF /heredoc.txt
content ${X}
EOF
COPY <<-EOF <<EOF2 /multi/
	tabbed
	EOF
second
EOF2
COPY <<"EOF" /quoted
$NOT_EXPANDED
EOF
COPY --chmod=755 --chown=1000:50 <<EOF /x/y/script.sh
#!/bin/sh
EOF
RUN <<A cat > /a && <<B cat > /b
first
A
second
B
DOCKERFILE
