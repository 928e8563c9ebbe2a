# ENTRYPOINT resets a CMD inherited from the base image (an ONBUILD image),
# keeps one set in the same stage before or after it; shell forms use SHELL;
# HEALTHCHECK NONE; empty exec forms. Target: emptied.
echo a > a
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/meta AS inherited
ENTRYPOINT ["/bin/ls"]

FROM conformance/base AS cmd-first
CMD ["a"]
ENTRYPOINT ["b"]

FROM conformance/base AS entrypoint-first
ENTRYPOINT ["b"]
CMD ["a"]

FROM entrypoint-first AS shell-entrypoint
ENTRYPOINT echo shell entry

FROM shell-entrypoint AS shelled
SHELL ["/bin/ash", "-c"]
CMD echo shelled
HEALTHCHECK NONE

FROM conformance/meta AS emptied
HEALTHCHECK NONE
CMD []
ENTRYPOINT []
DOCKERFILE
