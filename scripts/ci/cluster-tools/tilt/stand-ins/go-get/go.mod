// A stand-in for github.com/tilt-dev/go-get, which the checksum database does not know (see ../../README.md). Tilt uses it to
// clone extension repositories (`load('ext://...')`) and `tilt demo`'s sample project from the network; this build refuses
// both, so the Tiltfile check can never reach beyond the machine.
module github.com/tilt-dev/go-get

go 1.20
