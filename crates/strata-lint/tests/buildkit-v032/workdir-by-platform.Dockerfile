# A drive path is absolute only in a Windows stage; a backslash path too.
ARG WINDOWS=windows/amd64
FROM alpine:3.20 AS linux
WORKDIR C:\\app
FROM --platform=$WINDOWS mcr.microsoft.com/windows/nanoserver:ltsc2022 AS drive
WORKDIR C:\\app
FROM --platform=$WINDOWS mcr.microsoft.com/windows/nanoserver:ltsc2022 AS rooted
WORKDIR \\app
FROM --platform=$WINDOWS mcr.microsoft.com/windows/nanoserver:ltsc2022 AS relative
WORKDIR app
FROM relative
WORKDIR still-relative
FROM alpine:3.20
WORKDIR ${UNSET:-/srv}
