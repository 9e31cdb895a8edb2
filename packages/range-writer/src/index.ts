export { fileRangeWriter, type FileWriter, type FileWriterOptions } from './file-writer.js';
