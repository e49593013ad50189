// Client uploaders for external uploads, by the name the server's presign
// metadata gives in `uploader`. Apps add their own through connect({ uploaders }).
export const Uploaders = {};
