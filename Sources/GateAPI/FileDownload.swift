import Actions
import Foundation
import Gate
import HTTPTypes
import Hummingbird

/// A reviewer's copy of a file an approval would send, as the API and the console
/// serve it: always a download (`Content-Disposition: attachment`), its declared type
/// with `nosniff` so no browser guesses another, and a CSP that lets nothing in it run
/// should a browser show it anyway. Never cached: approvals are decided and purged.
enum FileDownload {
    static func response(_ file: DownloadApprovalFile.File) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = file.description.contentType
        headers[.contentDisposition] = contentDisposition(filename: file.description.filename)
        headers[.contentLength] = String(file.bytes.count)
        headers[.xContentTypeOptions] = "nosniff"
        headers[.contentSecurityPolicy] = "default-src 'none'; sandbox"
        headers[.cacheControl] = "private, no-store"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: file.bytes)))
    }

    /// RFC 6266: an ASCII `filename` for old clients and the exact name as RFC 8187 `filename*`.
    static func contentDisposition(filename: String) -> String {
        let fallback = String(String.UnicodeScalarView(filename.unicodeScalars.map { scalar in
            scalar.isASCII && scalar.value >= 0x20 && scalar.value < 0x7F && scalar != "\"" && scalar != "\\" ? scalar : "_"
        }))
        return "attachment; filename=\"\(fallback)\"; filename*=\(MIMEParameter.extendedValue(filename))"
    }
}
