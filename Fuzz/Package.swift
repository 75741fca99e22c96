// swift-tools-version:6.1
// libFuzzer targets for every parser of slawatch, kept out of the main package (like
// Benchmarks/) so that its build stays plain. One binary holds every target; the environment
// variable SLAWATCH_FUZZ_TARGET picks one. scripts/fuzz.sh builds it with
//   swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
// and runs each target on its corpus (Fuzz/README.md).
import PackageDescription

let package = Package(
    name: "slawatch-fuzz",
    dependencies: [
        .package(name: "slawatch", path: "..")
    ],
    targets: [
        .target(name: "CLibFuzzer", path: "Sources/CLibFuzzer"),
        .executableTarget(
            name: "slawatch-fuzz",
            dependencies: [
                "CLibFuzzer",
                .product(name: "SLAWatchCoreLibrary", package: "slawatch"),
                .product(name: "SLAWatchStoreLibrary", package: "slawatch"),
            ],
            path: "Sources/SLAWatchFuzz",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
