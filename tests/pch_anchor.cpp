// Anchors the precompiled header shared by the unit tests (see tests/CMakeLists.txt).
