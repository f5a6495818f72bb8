#!/bin/sh
# Makes the tiny synthetic recordings that manifest.csv names (test patterns and tones: no people), in media/.
# Needs ffmpeg. Each file differs in content, as real recordings do.
set -e
mkdir -p media
n=0
video() {
    n=$((n + 1))
    ffmpeg -nostdin -loglevel error -y -f lavfi -i "testsrc2=size=320x240:rate=25:duration=2,hue=h=$((n * 40))" \
        -f lavfi -i "sine=frequency=$((300 + n * 50)):duration=2" -c:v libx264 -preset ultrafast -pix_fmt yuv420p \
        -c:a aac -shortest "media/$1"
}
audio() {
    n=$((n + 1))
    ffmpeg -nostdin -loglevel error -y -f lavfi -i "sine=frequency=$((300 + n * 50)):duration=3" -c:a aac "media/$1"
}
for visit in p01_baseline p01_month5 p02_baseline p02_month5 p03_baseline p03_month5; do video "${visit}_play.mp4"; done
for session in p01_session1 p01_session2 p03_session1 p03_session2; do audio "$session.m4a"; done
video pilot_01.mp4
video pilot_02.mp4
echo "made $(ls media | wc -l) files in media/"
