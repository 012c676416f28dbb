// Prints a random SECRET_KEY fit for production (the Python original's generate_secret_key.py).
import { randomBytes } from 'node:crypto'

process.stdout.write(`${randomBytes(48).toString('base64url')}${randomBytes(16).toString('hex')}\n`)
