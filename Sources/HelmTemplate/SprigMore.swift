extension Sprig {
    static func addMore(_ m: inout FunctionMap) {
    }
}
