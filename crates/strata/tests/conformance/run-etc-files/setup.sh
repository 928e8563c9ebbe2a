# The /etc files of a RUN step: /etc/hosts and /etc/resolv.conf are
# BuildKit's, read-only, and never in a layer; /etc/hostname is the image's
# own (none here), so a step may write it into its layer.
true
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
RUN (cat /etc/hostname 2>/dev/null || echo none) > /hostname-seen && echo myhost > /etc/hostname
RUN (echo more >> /etc/hosts 2>/dev/null && echo writable || echo read-only) > /hosts-seen && grep -c localhost /etc/hosts > /hosts-lines
RUN cat /etc/hostname > /hostname-after
DOCKERFILE
