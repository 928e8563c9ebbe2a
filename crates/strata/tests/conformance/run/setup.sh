# RUN in exec and shell form, SHELL, WORKDIR, USER (names, ids, groups),
# files removed and replaced (whiteouts), the mount points docker's runc
# leaves (/dev, /etc, /proc, /sys).
true
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
RUN ["/bin/sh", "-c", "echo exec > /tmp/exec"]
RUN ["echo", "hi"]
SHELL ["/bin/sh", "-e", "-c"]
RUN echo shell > /tmp/shell
WORKDIR /work/dir
RUN pwd > pwd.txt
USER tester
RUN id > /tmp/id && touch /home/tester/own
USER 1000:50
RUN id > /tmp/id2
USER root
RUN echo $HOSTNAME > /tmp/host
RUN mkdir -p /x && echo a > /x/a && rm -rf /opt/data && rm /existing-file && ln -s /x /newlink
RUN ls /dev | grep -v '^otel-grpc.sock$' > /tmp/devlist
DOCKERFILE
